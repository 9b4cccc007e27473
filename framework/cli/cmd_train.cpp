// `cadenza train EXPERIMENT [key.path=value ...]` and `cadenza train --resume RUN_DIR`, on one
// process or, under mpirun / srun --mpi=pmix, on every rank (docs/scale.md#mpi).
#include <memory>

#include "cli/commands.hpp"
#include "train/train_command.hpp"

namespace cadenza::cli {

void add_train_command(CLI::App& app, Action& action) {
  auto request = std::make_shared<TrainRequest>();
  CLI::App* command = app.add_subcommand(
      "train", "Train the model an experiment describes; outputs go to RUNS_DIR/<name>/<run-id>/");
  command->add_option("experiment", request->experiment, "Experiment JSON file");
  command->add_option("overrides", request->overrides, "Overrides key.path=value after the file");
  command->add_option("--resume", request->resume,
                      "Continue the run in this directory from its newest valid checkpoint");
  command->add_option("--runs-dir", request->runs_dir, "Root of the run directories")
      ->capture_default_str();
  command->add_flag("--force", request->force, "Start afresh even if the run directory exists");
  command
      ->add_option("--pause-after-epoch", request->pause_after_epoch,
                   "Stop after epoch E with a checkpoint and no test evaluation (manifest "
                   "\"paused\"); --resume continues the same run (its id does not change)")
      ->check(CLI::PositiveNumber);
  command->add_option("--batch-shares", request->batch_shares,
                      "Compute each batch as N shares in turn, summed in share order: bit for bit "
                      "what N MPI ranks compute (default: one share per rank)");
  command->callback([request, &action] {
    action = [request] { return train_requested_run(*request, command_line()); };
  });
}

}  // namespace cadenza::cli
