#include "search/search_confirm.hpp"

#include <fmt/format.h>

#include "core/error.hpp"
#include "sweeps/run_state.hpp"

namespace cadenza {
namespace fs = std::filesystem;

std::vector<int64_t> confirmation_seeds(int64_t trial_seed, int64_t count) {
  std::vector<int64_t> seeds;
  for (int64_t seed = 1; static_cast<int64_t>(seeds.size()) < count; ++seed) {
    if (seed != trial_seed) seeds.push_back(seed);
  }
  return seeds;
}

SweepPlan plan_confirmation(const SearchPlan& plan, const std::vector<VariantTable>& tables) {
  SweepPlan confirmation;
  confirmation.name = plan.runs.name;
  confirmation.experiment = plan.runs.experiment;
  confirmation.axes = plan.spec.declaration;
  if (plan.spec.confirm_seeds == 0) return confirmation;
  const int64_t trial_seed = plan.runs.runs.front().resolved.config.seed;
  const std::vector<int64_t> seeds = confirmation_seeds(trial_seed, plan.spec.confirm_seeds);
  confirmation.selection = fmt::format(
      "each variant's configuration is the best trial of search {} by {} ({}) {}: the selection "
      "read validation data only, never a test metric; these runs train it again with seeds {} "
      "(the trials trained with seed {})",
      plan.runs.name, plan.spec.objective.name(),
      plan.spec.objective.minimize ? "minimised" : "maximised",
      plan.spec.pruner == config::PrunerKind::kSuccessiveHalving
          ? "over its successive-halving rungs"
          : "after every trial trained fully",
      fmt::join(seeds, ", "), trial_seed);
  for (size_t v = 0; v < plan.variants.size(); ++v) {
    if (!tables[v].complete || !tables[v].best) continue;
    const SearchVariant& variant = plan.variants[v];
    const SearchTrial& trial = plan.trials[variant.trials[*tables[v].best]];
    const PlannedRun& trained = plan.run_of(trial);
    for (const int64_t seed : seeds) {
      PlannedRun run;
      run.override_args = trained.override_args;
      run.override_args.push_back(config::override_text("seed", seed));
      try {
        run.resolved = config::resolve_experiment(plan.runs.experiment, run.override_args);
      } catch (const ConfigError& e) {
        throw ConfigError(fmt::format("{}: confirmation of variant {} (trial {}) with seed {}: {}",
                                      plan.runs.experiment.string(), variant.label, trial.number,
                                      seed, e.what()));
      }
      run.overrides = trained.overrides;
      run.overrides.emplace_back("seed", seed);
      run.variant = variant.label;
      run.dir = fs::path("runs") / run.resolved.config.name / run.resolved.run_id;
      confirmation.runs.push_back(std::move(run));
    }
  }
  return confirmation;
}

fs::path confirmation_folder(const fs::path& search_folder) {
  return search_folder / "confirm";
}

std::vector<size_t> unsettled_confirmations(const SweepPlan& confirmation, const fs::path& folder) {
  std::vector<size_t> unsettled;
  for (size_t i = 0; i < confirmation.runs.size(); ++i) {
    const RunState state = probe_run(run_files(folder, confirmation.runs[i]), folder).state;
    if (state != RunState::kDone && state != RunState::kFailed) unsettled.push_back(i);
  }
  return unsettled;
}

}  // namespace cadenza
