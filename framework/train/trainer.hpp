// The training loop of one run (docs/training.md):
//   for each epoch: stream the train split through the loader, one optimiser update per batch
//   (zeroed gradients, dropout keyed by step, clipping, scheduled learning rate); then score the
//   valid split with the full-sequence protocol, log train and valid rows, step the schedule,
//   checkpoint, and stop early when the valid nll has not improved for `patience` epochs.
//   At the end the best-valid checkpoint is reloaded and the test split is scored.
// On SIGINT or SIGTERM the run checkpoints between two steps, mid-epoch, with the epoch's train
// sums so far (checkpoint.hpp, /epoch_progress), and stops. On several MPI ranks each computes a
// share of every batch and the gradients are summed in rank order (train/data_parallel.hpp).
// Resuming restores parameters, optimiser, schedule, early stopping, step, loader position and
// metrics from the newest valid checkpoint; everything random is a function of (seed, step,
// epoch, sample), so a resumed run continues bit-identically.
#pragma once

#include <nlohmann/json.hpp>

#include "config/resolve.hpp"
#include "data/dataset.hpp"
#include "distributed/communicator.hpp"
#include "runs/run_dir.hpp"

namespace cadenza {

struct TrainOutcome {
  nlohmann::json test;  // FrameMetrics::to_json() of the test split; null when paused
  int64_t best_epoch = 0;
  int64_t steps = 0;
  int64_t epochs = 0;   // epochs trained so far
  bool paused = false;  // stopped at pause_after_epoch, before train.epochs, without a test
};

// Trains the run in `run` (created or reopened by the caller) on `dataset` (loaded by the caller,
// before the run directory was written) under the thread budget in force, each global batch as
// `shares` shares (train/data_parallel.hpp) on the ranks of `world`. Every rank runs it: all
// compute the same updates; the rank whose `run` writes records (rank 0) also evaluates the valid
// and test splits (their nll reaches the others for the schedule and early stopping), logs,
// writes metrics and checkpoints. With `pause_after_epoch` = E > 0 the run stops once E epochs
// are done, with a checkpoint at epoch E and no test evaluation (outcome.paused); resuming it
// later continues exactly as if it had never stopped, so a pause is a point in one run, not a new
// config. Throws NumericError when the loss turns NaN/Inf and train.nan_guard = "stop", and
// Interrupted after checkpointing between two steps when SIGINT or SIGTERM arrived
// (core/interrupt.hpp) at any rank: the ranks agree on the step to stop at.
TrainOutcome train_run(const config::ResolvedConfig& resolved, Dataset dataset, RunDirectory& run,
                       int loader_threads, const Communicator& world, int shares,
                       int64_t pause_after_epoch);

}  // namespace cadenza
