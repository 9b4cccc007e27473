// Which run `cadenza train` starts: a new run of an experiment file (plus overrides) under a runs
// root, or the continuation of an existing run directory (--resume RUN_DIR).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "config/resolve.hpp"
#include "runs/run_dir.hpp"

namespace cadenza {

// The arguments of `cadenza train`: either `experiment` (with `overrides`, `runs_dir`, `force`)
// or `resume` (with `overrides` that must leave the config unchanged).
struct TrainRequest {
  std::string experiment;
  std::vector<std::string> overrides;
  std::string resume;  // a run directory
  std::string runs_dir = "results/runs";
  bool force = false;
  // --pause-after-epoch E: stop after epoch E with a checkpoint, before the test (0 = never);
  // not part of the config, so the run id stays that of the whole run.
  int64_t pause_after_epoch = 0;
  int batch_shares = 0;  // shares of each global batch (train/data_parallel.hpp); 0 = the ranks
};

struct RunChoice {
  config::ResolvedConfig resolved;
  std::filesystem::path runs_root;  // <runs_root>/<experiment>/<run-id> is the run directory
  ExistingRun existing = ExistingRun::kRefuse;
};

// Resolves the config of `request` and decides how an existing run directory is treated:
//   --resume RUN_DIR  resolves RUN_DIR/config.json with the overrides; kResume; runs_root is
//                     RUN_DIR/../..; UsageError when an experiment or --force is given too, when
//                     there is no config.json, or when the overrides change the run id or name;
//   EXPERIMENT        resolves the file with the overrides; kOverwrite with --force, else kRefuse;
//                     notes on stderr when the file declares a sweep whose axes are not all set.
// UsageError when neither is given; config errors as config::resolve_experiment throws them.
RunChoice choose_run(const TrainRequest& request);

}  // namespace cadenza
