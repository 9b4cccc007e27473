// A sweep may be killed at any moment, so a run may be resumed from any state its files can be
// in. Two windows are narrow enough that random kills rarely hit them, so these tests put a run
// directory in each state by hand and check that `train --resume` (what a restarted sweep runs)
// ends exactly like an uninterrupted run:
//   - killed after an epoch's metrics rows were written but before its checkpoint (here: the
//     first epoch, so there is no checkpoint at all);
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

}  // namespace
}  // namespace cadenza
