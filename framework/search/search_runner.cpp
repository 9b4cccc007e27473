#include "search/search_runner.hpp"

#include <fmt/format.h>

#include <chrono>
#include <set>
#include <thread>

#include "core/error.hpp"
#include "core/interrupt.hpp"

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

}  // namespace

SearchResult run_search(const SearchPlan& plan, const fs::path& folder,
                        const SweepOptions& options) {
  SearchResult result;
  std::set<size_t> mine;
  for (const size_t index : shard_runs(plan.runs, options.shard))
    mine.insert(index);
  bool waiting_reported = false;
  while (true) {
    if (const int signal = interrupt_signal(); signal != 0) {
      throw Interrupted(signal, fmt::format("search {} stopped by {}; run the same `cadenza "
                                            "search` command again to continue",
                                            plan.runs.name, signal_name(signal)));
    }
    const auto decision_start = std::chrono::steady_clock::now();
    result.tables = read_search_tables(plan, folder);
    write_decisions(plan, result.tables, folder);
    const double decision_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - decision_start)
            .count();
    ++result.rounds;
    const std::vector<SweepTask> tasks = pending_tasks(plan, result.tables);
    if (tasks.empty()) break;
    std::vector<SweepTask> my_tasks;
    for (const SweepTask& task : tasks) {
      if (mine.contains(task.run)) my_tasks.push_back(task);
    }
    if (my_tasks.empty()) {
      if (!waiting_reported) {
        fmt::print(stderr, "[search {}] waiting for {} trial(s) of other shards\n", plan.runs.name,
                   tasks.size());
        waiting_reported = true;
      }
      std::this_thread::sleep_for(kShardPollInterval);
      continue;
    }
    waiting_reported = false;
    report_round(plan, result.tables, my_tasks.size(), decision_ms);
    result.attempts += run_sweep_tasks(plan.runs, folder, my_tasks, options).attempts;
  }
  return result;
}

}  // namespace cadenza
