#include "search/search_runner.hpp"

#include <fmt/format.h>

#include <chrono>
#include <set>
#include <thread>

#include "core/error.hpp"
#include "core/interrupt.hpp"
#include "search/search_confirm.hpp"

namespace cadenza {
namespace fs = std::filesystem;

namespace {

// How often a shard looks again at the trials other shards are training.
constexpr auto kShardPollInterval = std::chrono::milliseconds(500);

void report_round(const SearchPlan& plan, const std::vector<VariantTable>& tables,
                  size_t task_count, double decision_ms) {
  for (size_t v = 0; v < plan.variants.size(); ++v) {
    const VariantTable& table = tables[v];
    const RungRecord& rung = table.rungs.back();
    fmt::print(stderr, "[search {}] {}: rung {} of {} (epoch {}): {} trial(s){}; {} epochs spent\n",
               plan.runs.name, plan.variants[v].label, table.rungs.size(),
               plan.variants[v].rungs.size(), rung.epoch, rung.entrants.size(),
               table.complete ? ", decided" : "", table.epochs_spent);
  }
  fmt::print(stderr,
             "[search {}] {} trial(s) to train up to their rung (table read and decided in "
             "{:.1f} ms)\n",
             plan.runs.name, task_count, decision_ms);
  std::fflush(stderr);
}

void stop_if_interrupted(const SearchPlan& plan) {
  if (const int signal = interrupt_signal(); signal != 0) {
    throw Interrupted(signal, fmt::format("search {} stopped by {}; run the same `cadenza "
                                          "search` command again to continue",
                                          plan.runs.name, signal_name(signal)));
  }
}

// The tasks of this process's shard among `tasks` (runs of `runs`).
std::vector<SweepTask> shard_tasks(const SweepPlan& runs, const std::vector<SweepTask>& tasks,
                                   const Shard& shard) {
  const std::vector<size_t> indices = shard_runs(runs, shard);
  const std::set<size_t> mine(indices.begin(), indices.end());
  std::vector<SweepTask> selected;
  for (const SweepTask& task : tasks) {
    if (mine.contains(task.run)) selected.push_back(task);
  }
  return selected;
}

// Tells once that the process waits for other shards' `count` runs of `what`, then sleeps one poll
// interval.
void wait_for_other_shards(const SearchPlan& plan, size_t count, const char* what,
                           bool& waiting_reported) {
  if (!waiting_reported) {
    fmt::print(stderr, "[search {}] waiting for {} {} of other shards\n", plan.runs.name, count,
               what);
    std::fflush(stderr);
    waiting_reported = true;
  }
  std::this_thread::sleep_for(kShardPollInterval);
}

// Trains every rung of every variant (rounds of decisions, then the undecided rungs' trials).
void run_rungs(const SearchPlan& plan, const fs::path& folder, const SweepOptions& options,
               SearchResult& result) {
  bool waiting_reported = false;
  while (true) {
    stop_if_interrupted(plan);
    const auto decision_start = std::chrono::steady_clock::now();
    result.tables = read_search_tables(plan, folder);
    write_decisions(plan, result.tables, folder);
    const double decision_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - decision_start)
            .count();
    ++result.rounds;
    const std::vector<SweepTask> tasks = pending_tasks(plan, result.tables);
    if (tasks.empty()) return;
    const std::vector<SweepTask> mine = shard_tasks(plan.runs, tasks, options.shard);
    if (mine.empty()) {
      wait_for_other_shards(plan, tasks.size(), "trial(s)", waiting_reported);
      continue;
    }
    waiting_reported = false;
    report_round(plan, result.tables, mine.size(), decision_ms);
    result.attempts += run_sweep_tasks(plan.runs, folder, mine, options).attempts;
  }
}

// Trains the confirmation runs of the decided search until each is done or failed.
void run_confirmation(const SearchPlan& plan, const fs::path& folder, const SweepOptions& options,
                      SearchResult& result) {
  const SweepPlan confirmation = plan_confirmation(plan, result.tables);
  if (confirmation.runs.empty()) return;
  const fs::path confirm_folder = confirmation_folder(folder);
  write_sweep_document(confirmation, confirm_folder);
  bool waiting_reported = false;
  while (true) {
    stop_if_interrupted(plan);
    std::vector<SweepTask> tasks;
    for (const size_t index : unsettled_confirmations(confirmation, confirm_folder))
      tasks.push_back({index, 0});
    if (tasks.empty()) return;
    const std::vector<SweepTask> mine = shard_tasks(confirmation, tasks, options.shard);
    if (mine.empty()) {
      wait_for_other_shards(plan, tasks.size(), "confirmation run(s)", waiting_reported);
      continue;
    }
    waiting_reported = false;
    fmt::print(stderr, "[search {}] confirmation: {} run(s) to train\n", plan.runs.name,
               mine.size());
    std::fflush(stderr);
    result.attempts += run_sweep_tasks(confirmation, confirm_folder, mine, options).attempts;
  }
}

}  // namespace

SearchResult run_search(const SearchPlan& plan, const fs::path& folder,
                        const SweepOptions& options) {
  SearchResult result;
  run_rungs(plan, folder, options, result);
  run_confirmation(plan, folder, options, result);
  return result;
}

}  // namespace cadenza
