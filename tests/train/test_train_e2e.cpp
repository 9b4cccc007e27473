// End-to-end training through the real binary on real JSB data: determinism (same seed, any
// loader thread count), exact resume after kill -9, completed runs never silently overwritten,
// eval reproducing the logged test metrics, and PyTorch reproducing the test nll from our
// checkpoint.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cstring>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/process.hpp"
#include "support/wait.hpp"
#include "sweeps/run_state.hpp"
#include "train/checkpoint_format.hpp"
#include "train/train_run_support.hpp"

extern char** environ;

namespace cadenza {
namespace {

using testing::expect_same_weights;
using testing::metrics_without_timings;
using testing::run_cadenza;
using testing::ScratchDir;
using testing::smoke_experiment;

// Runs `cadenza train` and returns the run directory it reports.
std::filesystem::path train(const std::filesystem::path& config, const std::filesystem::path& runs,
                            const std::string& extra = "") {
  const auto result =
      run_cadenza("train '" + config.string() + "' --runs-dir '" + runs.string() + "' " + extra);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  std::istringstream lines(result.out);
  std::string line, last_line;
  while (std::getline(lines, line)) {
    if (!line.empty()) last_line = line;
  }
  return nlohmann::json::parse(last_line)["run_dir"].get<std::string>();
}

TEST(TrainE2E, SameSeedGivesBitIdenticalMetricsAndWeights) {
  ScratchDir dir;
  const auto config = smoke_experiment(dir, "det", "");
  const auto first = train(config, dir / "a");
  const auto second = train(config, dir / "b");
  const auto rows = metrics_without_timings(first);
  ASSERT_EQ(rows.size(), 3u * 2 + 1) << "train + valid per epoch, then test";
  EXPECT_EQ(rows, metrics_without_timings(second));
  expect_same_weights(first, second);
  EXPECT_EQ(rows.back()["split"], "test");
  // Learning, not just the keys' marginals: predicting each key from its training frequency
  // alone gives 11.09 on JSB test (docs/metrics.md); three smoke epochs reach about 9.6.
  EXPECT_LT(rows.back()["nll"].get<double>(), 10.5);
}

TEST(TrainE2E, LoaderThreadsChangeNothing) {
  ScratchDir dir;
  const auto inline_loader = train(
      smoke_experiment(dir, "t0", R"(, "threads": {"compute": 1, "loader": 0})"), dir / "runs");
  const auto threaded = train(
      smoke_experiment(dir, "t0", R"(, "threads": {"compute": 1, "loader": 1})"), dir / "runs2");
  // The thread counts are part of the config, so the run ids differ; nothing else may.
  auto inline_rows = metrics_without_timings(inline_loader);
  auto threaded_rows = metrics_without_timings(threaded);
  for (auto* rows : {&inline_rows, &threaded_rows}) {
    for (auto& row : *rows)
      row.erase("run_id");
  }
  EXPECT_EQ(inline_rows, threaded_rows);
  expect_same_weights(inline_loader, threaded);
  const auto manifest = nlohmann::json::parse(testing::slurp(threaded / "manifest.json"));
  EXPECT_EQ(manifest["threads"]["loader_tbb"], 1);
  EXPECT_EQ(manifest["threads"]["compute_openmp"], 1);
}

TEST(TrainE2E, KilledAndResumedRunIsBitIdentical) {
  ScratchDir dir;
  const auto config =
      smoke_experiment(dir, "kill", R"(, "train": {"epochs": 6}, "model": {"hidden_size": 48})");
  const auto reference = train(config, dir / "reference");
  const auto reference_rows = metrics_without_timings(reference);
  // Each run is killed as soon as it has checkpointed epoch 1 (its first checkpoint), or epoch 4
  // (checkpoints are written every epoch): during the epoch after that checkpoint.
  for (const int epoch : {1, 4}) {
    const int64_t step = reference_rows.at(2 * (epoch - 1))["step"];  // epoch's train row
    const auto runs = dir / ("killed" + std::to_string(epoch));
    const auto run_dir = runs / "kill" / reference.filename();
    const auto err_path = dir / ("killed" + std::to_string(epoch) + ".err");
    const std::string binary = CADENZA_BINARY;
    const std::string config_arg = config.string();
    const std::string runs_arg = runs.string();
    std::vector<char*> argv = {
        const_cast<char*>(binary.c_str()),     const_cast<char*>("train"),
        const_cast<char*>(config_arg.c_str()), const_cast<char*>("--runs-dir"),
        const_cast<char*>(runs_arg.c_str()),   nullptr};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    pid_t child = 0;
    ASSERT_EQ(posix_spawn(&child, binary.c_str(), &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    int status = 0;
    bool ended = false;
    const bool checkpointed = testing::wait_until(
        [&] {
          ended = waitpid(child, &status, WNOHANG) == child;
          return ended || newest_checkpoint_step(run_dir) >= step;
        },
        std::chrono::minutes(5));
    if (!ended) {
      kill(child, SIGKILL);
      waitpid(child, &status, 0);
    }
    ASSERT_FALSE(ended) << "the run ended (wait status " << status << ") before its checkpoint of"
                        << " epoch " << epoch << ":\n"
                        << testing::slurp(err_path);
    ASSERT_TRUE(checkpointed) << "no checkpoint of epoch " << epoch << " (step " << step
                              << ") within 5 minutes:\n"
                              << testing::slurp(err_path);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the run finished before the kill; lengthen it";
    ASSERT_TRUE(std::filesystem::exists(run_dir / "manifest.json"));
    const auto resumed = run_cadenza("train --resume '" + run_dir.string() + "'");
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
    EXPECT_EQ(metrics_without_timings(run_dir), reference_rows)
        << "killed after the checkpoint of epoch " << epoch;
    expect_same_weights(run_dir, reference);
  }
}

TEST(TrainE2E, ScheduledSamplingIsDeterministicAndChangesTraining) {
  ScratchDir dir;
  const std::string sampled = R"(, "model": {"scheduled_sampling": {"probability": 0.5}})";
  const auto first = train(smoke_experiment(dir, "sampled", sampled), dir / "a");
  const auto second = train(smoke_experiment(dir, "sampled", sampled), dir / "b");
  const auto teacher_forced = train(smoke_experiment(dir, "teacher", ""), dir / "c");
  const auto rows = metrics_without_timings(first);
  EXPECT_EQ(rows, metrics_without_timings(second));
  expect_same_weights(first, second);
  const auto teacher_rows = metrics_without_timings(teacher_forced);
  ASSERT_EQ(rows.front()["split"], "train");
  EXPECT_NE(rows.front()["nll"], teacher_rows.front()["nll"]) << "sampling changed nothing";
  EXPECT_LT(rows.back()["nll"].get<double>(), 10.5) << "trained with sampling, it still learns";
  // An encoder-decoder with input-feeding attention trains with sampling too.
  const auto seq2seq =
      train(smoke_experiment(dir, "sampled_seq2seq",
                             R"(, "model": {"type": "seq2seq", "attention": "general",
                    "attention_style": "bahdanau", "scheduled_sampling": {"probability": 0.3,
                    "ramp_steps": 20}},
                    "data": {"framing": "segments", "context_frames": 8, "target_frames": 8})"),
            dir / "d");
  EXPECT_LT(metrics_without_timings(seq2seq).back()["nll"].get<double>(), 11.0);
}

// Trains the smoke experiment (15 updates per epoch) with `guard` while the loss of update
// `step` reads as NaN the first `times` times (CADENZA_INJECT_NAN, see trainer.cpp).
testing::CommandResult train_with_injected_nan(const ScratchDir& dir, const std::string& guard,
                                               int step, int times) {
  const auto config =
      smoke_experiment(dir, "nan_" + guard, R"(, "train": {"nan_guard": ")" + guard + "\"}");
  return testing::run_shell("CADENZA_INJECT_NAN=" + std::to_string(step) + ":" +
                            std::to_string(times) + " '" + CADENZA_BINARY + "' train '" +
                            config.string() + "' --runs-dir '" + (dir / "runs").string() + "'");
}

TEST(TrainE2E, NanGuardStopsOrRollsBackWithALowerLearningRate) {
  {
    ScratchDir dir;
    const auto stopped = train_with_injected_nan(dir, "stop", 20, 1);
    EXPECT_EQ(stopped.exit_code, 4);
    EXPECT_NE(stopped.err.find("step 20: the training loss is nan"), std::string::npos)
        << stopped.err;
  }
  {
    ScratchDir dir;
    const auto rolled = train_with_injected_nan(dir, "rollback", 20, 1);
    ASSERT_EQ(rolled.exit_code, 0) << rolled.err;
    const auto run_dir = dir / "runs" / "nan_rollback";
    const auto run = *std::filesystem::directory_iterator(run_dir);
    EXPECT_NE(testing::slurp(run.path() / "log.txt").find("rolled back to epoch 1 (step 15)"),
              std::string::npos);
    const auto rows = metrics_without_timings(run.path());
    ASSERT_EQ(rows.size(), 3u * 2 + 1) << "all three epochs, logged once each, then test";
    EXPECT_DOUBLE_EQ(rows[0]["lr"].get<double>(), 0.01);
    EXPECT_DOUBLE_EQ(rows[2]["lr"].get<double>(), 0.001) << "epoch 2 retrained at lr / 10";
    EXPECT_EQ(rows[2]["step"], 30);
  }
  {
    ScratchDir dir;
    const auto gave_up = train_with_injected_nan(dir, "rollback", 20, 7);
    EXPECT_EQ(gave_up.exit_code, 4);
    EXPECT_NE(gave_up.err.find("gave up after 6 rollbacks"), std::string::npos) << gave_up.err;
  }
  {
    ScratchDir dir;
    const auto too_early = train_with_injected_nan(dir, "rollback", 5, 1);
    EXPECT_EQ(too_early.exit_code, 4);
    EXPECT_NE(too_early.err.find("found no checkpoint to roll back to"), std::string::npos)
        << too_early.err;
  }
}

TEST(TrainE2E, CompletedRunSaysSoAndForceRetrains) {
  ScratchDir dir;
  const auto config = smoke_experiment(dir, "again", "");
  const auto run_dir = train(config, dir / "runs");
  const auto metrics_before = testing::slurp(run_dir / "metrics.jsonl");
  const auto again =
      run_cadenza("train '" + config.string() + "' --runs-dir '" + (dir / "runs").string() + "'");
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_NE(again.err.find("already completed"), std::string::npos) << again.err;
  EXPECT_EQ(testing::slurp(run_dir / "metrics.jsonl"), metrics_before);
  train(config, dir / "runs", "--force");
  const auto typo = run_cadenza("train '" + config.string() + "' model.hiden_size=3 --runs-dir '" +
                                (dir / "runs2").string() + "'");
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_NE(typo.err.find("did you mean 'model.hidden_size'"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir / "runs2"));
}

// Trains the smoke lm with `cell`; `cadenza eval` gives the logged test metrics again, and the
// best checkpoint, read with h5py into PyTorch's LSTM, GRU or RNN and Linear, gives the same
// test nll (tests/python/torch_checkpoint_nll.py).
void expect_eval_and_pytorch_agree(const std::string& cell) {
  ScratchDir dir;
  const auto run_dir =
      train(smoke_experiment(dir, "evaluated-" + cell, R"(, "model": {"cell": ")" + cell + "\"}"),
            dir / "runs");
  const auto logged = metrics_without_timings(run_dir).back();
  const auto eval = run_cadenza("eval '" + run_dir.string() + "' --split test");
  ASSERT_EQ(eval.exit_code, 0) << eval.err;
  const auto result = nlohmann::json::parse(eval.out);
  EXPECT_EQ(result["nll"], logged["nll"]);
  EXPECT_EQ(result["acc"], logged["acc"]);
  EXPECT_TRUE(std::filesystem::exists(run_dir / "eval-test.json"));

  const auto dataset = dir / "jsb.h5";
  const auto mat = testing::shared_dir() / "datasets" / "polyphonic" / "JSB_Chorales.mat";
  ASSERT_EQ(
      run_cadenza("data import '" + mat.string() + "' --out '" + dataset.string() + "'").exit_code,
      0);
  const auto torch = testing::run_shell(
      "/usr/bin/python3 '" +
      (testing::source_dir() / "tests" / "python" / "torch_checkpoint_nll.py").string() + "' '" +
      (run_dir / "checkpoints" / "best.h5").string() + "' '" + dataset.string() + "' test");
  ASSERT_EQ(torch.exit_code, 0) << torch.err;
  const auto torch_result = nlohmann::json::parse(torch.out);
  EXPECT_EQ(torch_result["frames"], logged["frames"]);
  EXPECT_NEAR(torch_result["nll"].get<double>(), logged["nll"].get<double>(), 1e-4);
}

TEST(TrainE2E, EvalReproducesTheLoggedTestMetricsAndPyTorchAgrees) {
  expect_eval_and_pytorch_agree("lstm");
}

TEST(TrainE2E, GruCheckpointInPyTorchGivesTheSameTestNll) {
  expect_eval_and_pytorch_agree("gru");
}

TEST(TrainE2E, RnnCheckpointInPyTorchGivesTheSameTestNll) {
  expect_eval_and_pytorch_agree("rnn_tanh");
}

}  // namespace
}  // namespace cadenza

namespace cadenza {
namespace {

// On a terminal, training shows a live progress line; `script` (util-linux) gives the run a
// pseudo-terminal.
TEST(TrainE2E, ProgressLineOnATerminal) {
  ScratchDir dir;
  const auto config = smoke_experiment(dir, "progress", "");
  const std::string command = std::string("'") + CADENZA_BINARY + "' train '" + config.string() +
                              "' --runs-dir '" + (dir / "runs").string() + "'";
  const auto result = testing::run_shell("script -qec \"" + command + "\" /dev/null");
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  for (const char* field : {"epoch 3 step", "loss ", "frames/s", "ETA "}) {
    EXPECT_NE(result.out.find(field), std::string::npos) << field << " missing from " << result.out;
  }
}

}  // namespace
}  // namespace cadenza
