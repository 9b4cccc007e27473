// `cadenza search EXPERIMENT [--jobs N] [--shard i/n] [--searches-dir DIR]` runs the search an
// experiment's `search` block declares, then its confirmation runs, and writes its report;
// `--status` prints where each variant's search and confirmation stand.
// Exit codes: 0 every variant's search is complete with a best trial and every confirmation run is
// done; 5 a variant has no best trial (all its trials failed) or a confirmation run failed.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <memory>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "core/interrupt.hpp"
#include "experiments/search_report.hpp"
#include "search/search_confirm.hpp"
#include "search/search_plan.hpp"
#include "search/search_runner.hpp"
#include "search/search_table.hpp"
#include "sweeps/run_state.hpp"

namespace cadenza::cli {
namespace {

namespace fs = std::filesystem;

// A search that ended with a variant whose trials all failed, or a failed confirmation run.
constexpr int kExitRunsFailed = 5;

std::string rungs_label(const std::vector<int64_t>& rungs) {
  return fmt::format("{}", fmt::join(rungs, "/"));
}

std::string best_label(const SearchPlan& plan, size_t v, const VariantTable& table) {
  if (!table.best) return "none yet";
  const SearchTrial& trial = plan.trials[plan.variants[v].trials[*table.best]];
  const TrialRow& row = table.trials[*table.best];
  return fmt::format("trial {} ({} {:.4f} at epoch {}; run {}; {})", trial.number,
                     plan.spec.objective.name(), row.objective.value_or(0.0), row.objective_epoch,
                     plan.run_of(trial).run_id(), values_label(trial.values));
}

// The states of the confirmation runs of variant `variant`, probed in `confirm_folder`.
std::map<RunState, size_t> confirmation_states(const SweepPlan& confirmation,
                                               const fs::path& confirm_folder,
                                               const std::string& variant) {
  std::map<RunState, size_t> counts;
  for (const PlannedRun& run : confirmation.runs) {
    if (run.variant == variant)
      ++counts[probe_run(run_files(confirm_folder, run), confirm_folder).state];
  }
  return counts;
}

std::string confirmation_label(const SearchPlan& plan, const VariantTable& table,
                               const SweepPlan& confirmation, const fs::path& confirm_folder,
                               const std::string& variant) {
  if (plan.spec.confirm_seeds == 0) return "none (search.confirm is not set)";
  if (!table.best || confirmation.runs.empty()) {
    return fmt::format("{} seed(s) of the best trial, after every variant's last rung",
                       plan.spec.confirm_seeds);
  }
  std::map<RunState, size_t> counts = confirmation_states(confirmation, confirm_folder, variant);
  std::vector<std::string> parts;
  for (const RunState state : {RunState::kDone, RunState::kRunning, RunState::kFailed,
                               RunState::kPartial, RunState::kPending}) {
    parts.push_back(fmt::format("{} {}", counts[state], state_name(state)));
  }
  return fmt::format("trial {} with seeds {}: {}", *table.best,
                     fmt::join(confirmation_seeds(plan.runs.runs.front().resolved.config.seed,
                                                  plan.spec.confirm_seeds),
                               ", "),
                     fmt::join(parts, ", "));
}

int print_status(const SearchPlan& plan, const fs::path& folder) {
  const auto tables = read_search_tables(plan, folder);
  const bool complete = std::all_of(tables.begin(), tables.end(),
                                    [](const VariantTable& table) { return table.complete; });
  const SweepPlan confirmation = complete ? plan_confirmation(plan, tables) : SweepPlan{};
  fmt::print("search {}: {} trial(s) x {} variant(s), objective {} ({}), sampler {}, in {}\n",
             plan.runs.name, plan.spec.trials, plan.variants.size(), plan.spec.objective.name(),
             plan.spec.objective.minimize ? "minimised" : "maximised",
             plan.spec.sampler == config::SamplerKind::kSobol ? "sobol" : "random",
             folder.string());
  for (size_t v = 0; v < plan.variants.size(); ++v) {
    const SearchVariant& variant = plan.variants[v];
    const VariantTable& table = tables[v];
    fmt::print("variant {}: rungs {} epochs, {}\n", variant.label, rungs_label(variant.rungs),
               table.complete ? "complete" : fmt::format("at rung {}", table.rungs.size()));
    fmt::print("  {:>4} {:>6} {:>7} {:>8} {:>8} {:>8} {:>7} {:>7}\n", "rung", "epoch", "trials",
               "results", "running", "promoted", "pruned", "failed");
    for (size_t r = 0; r < table.rungs.size(); ++r) {
      const RungRecord& rung = table.rungs[r];
      size_t running = 0;
      size_t failed = 0;
      for (const size_t k : rung.entrants) {
        const TrialRow& row = table.trials[k];
        if (row.running && row.rung == r) ++running;
        if (row.fate == TrialFate::kFailed && row.rung == r) ++failed;
      }
      const bool last = r + 1 == variant.rungs.size();
      const std::string promoted =
          rung.decided && !last ? std::to_string(rung.promoted.size()) : std::string("-");
      const std::string pruned =
          rung.decided && !last
              ? std::to_string(rung.entrants.size() - rung.promoted.size() - failed)
              : std::string("-");
      fmt::print("  {:>4} {:>6} {:>7} {:>8} {:>8} {:>8} {:>7} {:>7}\n", r + 1, rung.epoch,
                 rung.entrants.size(), rung.results.size(), running, promoted, pruned, failed);
    }
    fmt::print("  best so far: {}\n", best_label(plan, v, table));
    fmt::print("  epochs spent: {} (a full training of every trial: {})\n", table.epochs_spent,
               static_cast<int64_t>(variant.trials.size()) * variant.rungs.back());
    fmt::print(
        "  confirmation: {}\n",
        confirmation_label(plan, table, confirmation, confirmation_folder(folder), variant.label));
  }
  return 0;
}

}  // namespace

void add_search_command(CLI::App& app, Action& action) {
  struct Options {
    std::string experiment;
    int jobs = 1;
    std::string shard = "0/1";
    bool status = false;
    std::string searches_dir = "results/searches";
  };
  auto options = std::make_shared<Options>();
  CLI::App* command = app.add_subcommand(
      "search",
      "Run the hyperparameter search of an experiment's `search` block (successive halving over "
      "epochs; resumable; cooperating processes share the trials through locks), then the "
      "confirmation of each variant's best trial with fresh seeds; outputs go to "
      "SEARCHES_DIR/<name>/");
  command->add_option("experiment", options->experiment, "Experiment JSON file")->required();
  command
      ->add_option("--jobs", options->jobs,
                   "Trials trained at once, each a `cadenza train` process on cores / N cores")
      ->capture_default_str();
  command
      ->add_option("--shard", options->shard,
                   "Train only part i of n (0 <= i < n) of the trials, e.g. a Slurm array task; "
                   "each rung waits for the other shards' trials")
      ->capture_default_str();
  command->add_flag("--status", options->status,
                    "Print each variant's rungs, best trial and epochs spent, and exit");
  command->add_option("--searches-dir", options->searches_dir, "Root of the search folders")
      ->capture_default_str();
  command->callback([options, &action] {
    action = [options] {
      const Shard shard = parse_shard(options->shard);
      if (options->jobs < 1) {
        throw UsageError(fmt::format("--jobs {}: must be at least 1", options->jobs));
      }
      const SearchPlan plan = plan_search(options->experiment);
      const fs::path folder = search_folder(plan, options->searches_dir);
      if (options->status) return print_status(plan, folder);
      write_search_document(plan, folder);
      SweepOptions sweep;
      sweep.jobs = options->jobs;
      sweep.shard = shard;
      sweep.cadenza_binary = fs::read_symlink("/proc/self/exe");
      InterruptHandlers interrupt_handlers;
      const SearchResult result = run_search(plan, folder, sweep);
      write_search_report(read_search_report(plan, folder), folder);
      const SweepPlan confirmation = plan_confirmation(plan, result.tables);
      const fs::path confirm_folder = confirmation_folder(folder);
      nlohmann::json variants = nlohmann::json::array();
      bool every_variant_has_a_best = true;
      bool every_confirmation_done = true;
      for (size_t v = 0; v < plan.variants.size(); ++v) {
        const VariantTable& table = result.tables[v];
        fmt::print(stderr, "search {} {}: best {}; {} epochs spent\n", plan.runs.name,
                   plan.variants[v].label, best_label(plan, v, table), table.epochs_spent);
        every_variant_has_a_best = every_variant_has_a_best && table.best.has_value();
        const SearchTrial* best =
            table.best ? &plan.trials[plan.variants[v].trials[*table.best]] : nullptr;
        nlohmann::json confirmations = nlohmann::json::array();
        for (const PlannedRun& run : confirmation.runs) {
          if (run.variant != plan.variants[v].label) continue;
          const RunFiles files = run_files(confirm_folder, run);
          const RunState state = read_run_status(files, confirm_folder).state;
          const nlohmann::json test = test_metrics(files.run_dir);
          every_confirmation_done = every_confirmation_done && state == RunState::kDone;
          confirmations.push_back(
              {{"seed", run.resolved.config.seed},
               {"run_id", run.run_id()},
               {"state", state_name(state)},
               {"test_nll",
                test.is_object() && test.contains("nll") ? test["nll"] : nlohmann::json()}});
        }
        variants.push_back(
            {{"variant", plan.variants[v].label},
             {"best_trial", best ? nlohmann::json(best->number) : nullptr},
             {"run_id", best ? nlohmann::json(plan.run_of(*best).run_id()) : nullptr},
             {"objective", best ? nlohmann::json(*table.trials[*table.best].objective) : nullptr},
             {"epochs_spent", table.epochs_spent},
             {"confirmations", confirmations}});
      }
      fmt::print(stderr, "search {}: report written to {}/report.{{md,csv,html}}\n", plan.runs.name,
                 folder.string());
      fmt::print("{}\n", nlohmann::json{{"search_dir", folder.string()},
                                        {"objective", plan.spec.objective.name()},
                                        {"variants", variants},
                                        {"attempts", result.attempts},
                                        {"rounds", result.rounds}}
                             .dump());
      return every_variant_has_a_best && every_confirmation_done ? 0 : kExitRunsFailed;
    };
  });
}

}  // namespace cadenza::cli
