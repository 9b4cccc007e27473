// Everything about a training run that can be checked before its run directory is written, so
// that a run which cannot succeed fails at once and leaves nothing behind:
//   - the config resolves (done by the caller) and the dataset is found and readable (the caller
//     loads it: data/locate.hpp);
//   - the model's estimated training memory fits in the memory available (models/model_size.hpp):
//     ConfigError (exit 2) naming both amounts and the keys that drive the estimate;
//   - the runs folder is writable: Error (exit 1) naming the folder and the system's reason;
//   - its filesystem has room for two checkpoints (the new one is written before the oldest is
//     deleted): Error naming the bytes needed and free.
#pragma once

#include <cstdint>
#include <filesystem>

#include "config/resolve.hpp"
#include "data/dataset.hpp"
#include "models/model_size.hpp"

namespace cadenza {

struct RunSize {
  int64_t parameters = 0;
  MemoryEstimate memory;
  int64_t checkpoint_bytes = 0;
};

// Locates and loads the run's dataset (data/locate.hpp). A wrong data.dataset value is a
// ConfigError naming the config file that set it.
Dataset load_run_dataset(const config::ResolvedConfig& resolved);

// The size of the run `config` describes on `dataset`.
RunSize size_run(const config::ExperimentConfig& config, const Dataset& dataset);

// Throws as described above when the run in `run_dir` cannot start; returns its size otherwise.
RunSize check_run_can_start(const config::ResolvedConfig& resolved, const Dataset& dataset,
                            const std::filesystem::path& run_dir);

}  // namespace cadenza
