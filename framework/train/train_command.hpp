// The whole of `cadenza train` after its arguments are parsed: choose the run
// (runs/run_choice.hpp), skip it when it is already completed, check that it can start
// (preflight.hpp), train it (trainer.hpp) and record how it ended in its manifest.
#pragma once

#include <string>

#include "runs/run_choice.hpp"

namespace cadenza {

// Trains the run `request` names, on every MPI rank when a launcher started several
// (distributed/communicator.hpp): each global batch as request.batch_shares shares (0: one per
// rank), rank 0 writing the run directory. SIGINT and SIGTERM stop it at a safe point
// (core/interrupt.hpp).
// Prints one JSON line on stdout (rank 0):
//   {"run_dir", "run_id", "status": "completed"}                 already completed, not trained
//   {"run_dir", "run_id", "best_epoch", "steps", "test": {...}}  trained to completion
//   {"run_dir", "run_id", "status": "paused", "epochs", "steps"}  stopped at pause_after_epoch
// Returns the exit code (0); errors throw (the manifest then says "failed" or "interrupted").
int train_requested_run(const TrainRequest& request, const std::string& command_line);

}  // namespace cadenza
