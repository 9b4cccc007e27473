#include "runs/run_choice.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "config/sweep.hpp"
#include "core/error.hpp"

namespace cadenza {
namespace {

// `cadenza train` on an experiment that declares a `sweep` trains one config of it: the file's
// base values plus the overrides given. Says so unless the overrides set every axis key (as the
// workers of `cadenza sweep` do).
void note_sweep(const std::string& experiment, const std::vector<std::string>& overrides) {
  const config::Json merged = config::load_experiment(experiment);
  if (!merged.contains("sweep")) return;
  const config::SweepSpec spec = config::parse_sweep(merged["sweep"], experiment);
  for (const auto& axis : spec.axes) {
    for (const auto& key : axis.keys) {
      const bool set = std::any_of(overrides.begin(), overrides.end(),
                                   [&](const std::string& o) { return o.starts_with(key + "="); });
      if (set) continue;
      fmt::print(stderr,
                 "note: {} declares a sweep of {} runs; this trains one config (the file's base "
                 "values plus the overrides given; '{}' keeps its base value). `cadenza sweep {}` "
                 "trains them all.\n",
                 experiment, spec.run_count(), key, experiment);
      return;
    }
  }
}

// The --resume branch of choose_run.
RunChoice choose_resumed_run(const TrainRequest& request) {
  if (!request.experiment.empty() || request.force) {
    throw UsageError("cadenza train --resume RUN_DIR takes no experiment file and no --force");
  }
  const std::filesystem::path run_dir = request.resume;
  const auto config_file = run_dir / "config.json";
  if (!std::filesystem::exists(config_file)) {
    throw UsageError(
        fmt::format("--resume {}: no config.json there; pass a run directory "
                    "(results/runs/<experiment>/<run-id>)",
                    run_dir.string()));
  }
  RunChoice choice;
  choice.resolved = config::resolve_experiment(config_file, request.overrides);
  choice.runs_root = run_dir.parent_path().parent_path();
  if (choice.resolved.run_id != run_dir.filename().string() ||
      choice.resolved.config.name != run_dir.parent_path().filename().string()) {
    throw UsageError(
        fmt::format("--resume {}: the overrides change the config, so it is no "
                    "longer this run (its id would be {})",
                    run_dir.string(), choice.resolved.run_id));
  }
  choice.existing = ExistingRun::kResume;
  return choice;
}

}  // namespace

RunChoice choose_run(const TrainRequest& request) {
  if (!request.resume.empty()) return choose_resumed_run(request);
  if (request.experiment.empty()) {
    throw UsageError("cadenza train needs an experiment file (or --resume RUN_DIR)");
  }
  RunChoice choice;
  choice.resolved = config::resolve_experiment(request.experiment, request.overrides);
  note_sweep(request.experiment, request.overrides);
  choice.runs_root = request.runs_dir;
  choice.existing = request.force ? ExistingRun::kOverwrite : ExistingRun::kRefuse;
  return choice;
}

}  // namespace cadenza
