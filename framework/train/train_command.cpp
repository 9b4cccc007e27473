#include "train/train_command.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <optional>

#include "core/error.hpp"
#include "core/interrupt.hpp"
#include "core/threads.hpp"
#include "distributed/communicator.hpp"
#include "runs/run_dir.hpp"
#include "train/data_parallel.hpp"
#include "train/preflight.hpp"
#include "train/trainer.hpp"

namespace cadenza {

int train_requested_run(const TrainRequest& request, const std::string& command_line) {
  // From here on SIGINT and SIGTERM stop the run at a safe point (core/interrupt.hpp); MPI's
  // threads, started next, inherit the blocked signals.
  InterruptHandlers interrupt_handlers;
  const Communicator& world = Communicator::world();
  const int shares = request.batch_shares != 0 ? request.batch_shares : world.size();
  check_batch_shares(world, shares);
  const RunChoice choice = choose_run(request);
  const config::ResolvedConfig& resolved = choice.resolved;
  RunStart start;
  start.command_line = command_line;
  start.runs_root = choice.runs_root;
  start.existing = choice.existing;
  const auto run_path = RunDirectory::path_for(resolved, start.runs_root);
  if (start.existing == ExistingRun::kRefuse && RunDirectory::status_of(run_path) == "completed") {
    if (!world.is_root()) return 0;
    fmt::print(stderr,
               "run {} of '{}' is already completed at {}; its metrics are in "
               "metrics.jsonl there (pass --force to train it again)\n",
               resolved.run_id, resolved.config.name, run_path.string());
    fmt::print("{}\n", nlohmann::json{{"run_dir", run_path.string()},
                                      {"run_id", resolved.run_id},
                                      {"status", "completed"}}
                           .dump());
    return 0;
  }
  const auto& threads = resolved.config.threads;
  start.threads = resolve_thread_budget(threads.compute, threads.loader, available_cores());
  ThreadScope scope(start.threads);
  // Everything that can fail before training is checked before the run directory is written.
  Dataset dataset = load_run_dataset(resolved);
  const RunSize size = check_run_can_start(resolved, dataset, run_path);
  start.parameters = size.parameters;
  start.memory_estimate_bytes = size.memory.total();
  start.data_parallel = {world.size(), shares, Communicator::library_version()};
  start.writes_records = world.is_root();
  if (const int signal = world.max(interrupt_signal()); signal != 0) {
    throw Interrupted(signal, fmt::format("{} received before run {} started; nothing was "
                                          "written",
                                          signal_name(signal), resolved.run_id));
  }
  // Rank 0 creates (or reopens) the run directory; the other ranks open it after that.
  std::optional<RunDirectory> opened;
  if (world.is_root()) opened.emplace(resolved, start);
  world.barrier();
  if (!world.is_root()) opened.emplace(resolved, start);
  RunDirectory& run = *opened;
  try {
    const TrainOutcome outcome = train_run(resolved, std::move(dataset), run, start.threads.loader,
                                           world, shares, request.pause_after_epoch);
    if (outcome.paused) {
      run.finish("paused",
                 fmt::format("after epoch {} of {}", outcome.epochs, resolved.config.train.epochs));
      if (!world.is_root()) return 0;
      fmt::print("{}\n", nlohmann::json{{"run_dir", run.path().string()},
                                        {"run_id", resolved.run_id},
                                        {"status", "paused"},
                                        {"epochs", outcome.epochs},
                                        {"steps", outcome.steps}}
                             .dump());
      return 0;
    }
    run.finish("completed");
    if (!world.is_root()) return 0;
    fmt::print("{}\n", nlohmann::json{{"run_dir", run.path().string()},
                                      {"run_id", resolved.run_id},
                                      {"best_epoch", outcome.best_epoch},
                                      {"steps", outcome.steps},
                                      {"test", outcome.test}}
                           .dump());
    return 0;
  } catch (const Interrupted& e) {
    run.finish("interrupted", e.what());
    throw;
  } catch (const std::exception& e) {
    run.finish("failed", e.what());
    throw;
  }
}

}  // namespace cadenza
