// A sweep may be killed at any moment, so a run may be resumed from any state its files can be
// in. Some windows are narrow enough that random kills rarely hit them, so these tests put a run
// in each state (by hand, or by a kill injected at that point) and check that `train --resume`
// (what a restarted sweep or search runs) ends exactly like an uninterrupted run:
//   - rows without their checkpoint: an epoch's metrics rows on disk, its checkpoint not (here:
//     the first epoch, so there is no checkpoint at all; the trainer writes a due checkpoint
//     before the rows, so only an epoch without a due checkpoint leaves this state now);
//   - killed between an epoch's checkpoint and its rows (CADENZA_INJECT_KILL): nothing is
//     trained twice, paused at a search's rung or not;
//   - killed after the last checkpoint, during the final test evaluation (training is over; with
//     train.max_steps or early stopping it must not train phantom epochs).
#include <gtest/gtest.h>

#include "sweeps/sweep_test_support.hpp"

namespace cadenza {
namespace {

namespace fs = std::filesystem;
using testing::experiment_extending;
using testing::last_json_line;
using testing::metrics_without_timings;
using testing::run_cadenza;
using testing::ScratchDir;

fs::path train(const fs::path& experiment, const fs::path& runs) {
  const auto result =
      run_cadenza("train '" + experiment.string() + "' --runs-dir '" + runs.string() + "'");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  return last_json_line(result.out)["run_dir"].get<std::string>();
}

// What a kill leaves: the manifest still says "running".
void mark_interrupted(const fs::path& run_dir) {
  auto manifest = testing::read_json(run_dir / "manifest.json");
  manifest["status"] = "running";
  std::ofstream(run_dir / "manifest.json") << manifest.dump(2);
}

void resume(const fs::path& run_dir) {
  const auto result = run_cadenza("train --resume '" + run_dir.string() + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
}

TEST(ResumeWindows, KilledBeforeTheFirstCheckpointStartsOverWithoutStaleRows) {
  ScratchDir dir;
  const auto experiment = experiment_extending(
      dir, "smoke", "no_checkpoint", R"(, "train": {"epochs": 2}, "threads": {"compute": 1})");
  const fs::path run_dir = train(experiment, dir / "runs");
  const auto uninterrupted = metrics_without_timings(run_dir);
  // The state right after epoch 1's rows were logged, before its checkpoint was renamed in place.
  std::ifstream all(run_dir / "metrics.jsonl");
  std::string train_row, valid_row;
  std::getline(all, train_row);
  std::getline(all, valid_row);
  all.close();
  std::ofstream(run_dir / "metrics.jsonl") << train_row << "\n" << valid_row << "\n";
  fs::remove_all(run_dir / "checkpoints");
  fs::create_directories(run_dir / "checkpoints");
  mark_interrupted(run_dir);
  resume(run_dir);
  EXPECT_EQ(metrics_without_timings(run_dir), uninterrupted);
}

TEST(ResumeWindows, KilledDuringTheFinalTestTrainsNothingMore) {
  ScratchDir dir;
  for (const std::string stop :
       {R"("max_steps": 20)", R"("epochs": 30, "early_stopping_patience": 1)"}) {
    const auto experiment = experiment_extending(
        dir, "smoke", "final_test",
        R"(, "train": {)" + stop + R"(, "optimizer": {"lr": 0.2}}, "threads": {"compute": 1})");
    const fs::path run_dir = train(experiment, dir / ("runs" + std::to_string(stop.size())));
    auto uninterrupted = metrics_without_timings(run_dir);
    ASSERT_LT(uninterrupted.back()["epoch"].get<int>(), 30) << "the run should stop early";
    // Everything up to the last checkpoint is on disk; the test row is not.
    std::ifstream all(run_dir / "metrics.jsonl");
    std::string kept, line;
    for (size_t i = 0; i + 1 < uninterrupted.size() && std::getline(all, line); ++i)
      kept += line + "\n";
    all.close();
    std::ofstream(run_dir / "metrics.jsonl") << kept;
    mark_interrupted(run_dir);
    resume(run_dir);
    EXPECT_EQ(metrics_without_timings(run_dir), uninterrupted) << stop;
  }
}

// The log lines of the epochs a run trained, over all its sessions.
size_t epochs_logged(const fs::path& run_dir, int64_t epoch) {
  return testing::count_occurrences(testing::slurp(run_dir / "log.txt"),
                                    "] epoch " + std::to_string(epoch) + " step");
}

TEST(ResumeWindows, KilledBetweenAnEpochsCheckpointAndItsRowsTrainsNothingTwice) {
  ScratchDir dir;
  const auto experiment = experiment_extending(
      dir, "smoke", "kill_window", R"(, "train": {"epochs": 3}, "threads": {"compute": 1})");
  const fs::path uninterrupted = train(experiment, dir / "uninterrupted");
  for (const std::string& pause : {std::string(), std::string(" --pause-after-epoch 2")}) {
    const fs::path runs = dir / ("killed" + std::to_string(pause.size()));
    const auto killed =
        testing::run_shell("CADENZA_INJECT_KILL=2 '" + std::string(CADENZA_BINARY) + "' train '" +
                           experiment.string() + "' --runs-dir '" + runs.string() + "'" + pause);
    ASSERT_EQ(killed.exit_code, 128 + SIGKILL) << killed.err;
    const fs::path run_dir = *fs::directory_iterator(runs / "kill_window");
    // Epoch 2's checkpoint is written, its rows are not: what a search or sweep reads says epoch 1.
    EXPECT_EQ(trained_epochs(run_dir), 1) << pause;
    EXPECT_EQ(newest_checkpoint_step(run_dir), 2 * 15) << pause;
    ASSERT_EQ(epochs_logged(run_dir, 2), 1u);
    const auto resumed = run_cadenza("train --resume '" + run_dir.string() + "'" + pause);
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
    EXPECT_EQ(epochs_logged(run_dir, 2), 1u) << "epoch 2 was trained again" << pause;
    if (!pause.empty()) {
      // The rung's pause: epoch 2's rows are back from the checkpoint, nothing more was trained.
      EXPECT_EQ(last_json_line(resumed.out)["status"], "paused") << resumed.out;
      EXPECT_EQ(trained_epochs(run_dir), 2);
      EXPECT_EQ(epochs_logged(run_dir, 3), 0u);
      resume(run_dir);
    }
    for (const int64_t epoch : {1, 3})
      EXPECT_EQ(epochs_logged(run_dir, epoch), 1u) << "epoch " << epoch << pause;
    EXPECT_EQ(metrics_without_timings(run_dir), metrics_without_timings(uninterrupted)) << pause;
    testing::expect_same_weights(run_dir, uninterrupted);
  }
}

}  // namespace
}  // namespace cadenza
