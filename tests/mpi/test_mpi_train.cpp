// Data-parallel training on 2 MPI ranks (mpirun on loopback, the real binary, real JSB data): the
// ranks compute bit for bit what one process computes with --batch-shares 2, and close to the plain
// one-share run (the measured difference is printed); rank 0 alone writes the run; a run stopped
// by SIGTERM resumes on 2 ranks bit-identically, and on 1 rank it says it no longer is; share
// counts that do not fit the ranks are refused; `cadenza bench` times the data-parallel step.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "config/resolve.hpp"
#include "mpi/mpi_test_support.hpp"
#include "support/background.hpp"
#include "sweeps/run_state.hpp"
#include "sweeps/sweep_test_support.hpp"
#include "train/checkpoint_format.hpp"

namespace cadenza {
namespace {

namespace fs = std::filesystem;
using testing::expect_same_weights;
using testing::last_json_line;
using testing::metrics_without_timings;
using testing::read_json;
using testing::run_cadenza;
using testing::run_cadenza_ranks;
using testing::ScratchDir;
using testing::smoke_experiment;

bool contains(const std::string& text, const std::string& fragment) {
  return text.find(fragment) != std::string::npos;
}

std::string train_arguments(const fs::path& experiment, const fs::path& runs) {
  return "train '" + experiment.string() + "' --runs-dir '" + runs.string() + "'";
}

fs::path run_dir_of(const testing::CommandResult& result) {
  EXPECT_EQ(result.exit_code, 0) << result.err;
  return last_json_line(result.out)["run_dir"].get<std::string>();
}

// The largest relative difference between the "nll" of matching metrics rows of two runs.
double largest_nll_difference(const fs::path& a, const fs::path& b) {
  const auto left = metrics_without_timings(a), right = metrics_without_timings(b);
  EXPECT_EQ(left.size(), right.size());
  double largest = 0.0;
  for (size_t i = 0; i < std::min(left.size(), right.size()); ++i) {
    const double x = left[i]["nll"], y = right[i]["nll"];
    largest = std::max(largest, std::abs(x - y) / std::abs(y));
  }
  return largest;
}

// The largest |a - b| over every best-checkpoint weight, relative to the largest |b|.
double largest_weight_difference(const fs::path& a, const fs::path& b) {
  const auto left = load_checkpoint(a / "checkpoints" / "best.h5").params;
  const auto right = load_checkpoint(b / "checkpoints" / "best.h5").params;
  double difference = 0.0, scale = 0.0;
  for (const auto& [name, tensor] : left) {
    const Tensor& other = right.at(name);
    for (int64_t i = 0; i < tensor.numel(); ++i) {
      difference = std::max(difference, static_cast<double>(std::abs(tensor[i] - other[i])));
      scale = std::max(scale, static_cast<double>(std::abs(other[i])));
    }
  }
  return difference / scale;
}

// The smoke run on one compute thread per process, so that every share is computed alike.
fs::path one_thread_smoke(const ScratchDir& dir, const std::string& name, int epochs) {
  return smoke_experiment(
      dir, name,
      R"(, "threads": {"compute": 1}, "train": {"epochs": )" + std::to_string(epochs) + "}");
}

TEST(MpiTrain, TwoRanksComputeBitForBitWhatOneProcessComputesWithTwoShares) {
  ScratchDir dir;
  const fs::path experiment = one_thread_smoke(dir, "ranks", 3);
  const fs::path ranks = run_dir_of(run_cadenza_ranks(2, train_arguments(experiment, dir / "a")));
  const fs::path shares =
      run_dir_of(run_cadenza(train_arguments(experiment, dir / "b") + " --batch-shares 2"));
  const fs::path plain = run_dir_of(run_cadenza(train_arguments(experiment, dir / "c")));
  EXPECT_EQ(metrics_without_timings(ranks), metrics_without_timings(shares));
  expect_same_weights(ranks, shares);

  const auto manifest = read_json(ranks / "manifest.json");
  EXPECT_EQ(manifest["status"], "completed");
  EXPECT_EQ(manifest["data_parallel"]["ranks"], 2);
  EXPECT_EQ(manifest["data_parallel"]["shares"], 2);
  EXPECT_TRUE(manifest["data_parallel"]["mpi_library"].get<std::string>().starts_with("Open MPI"))
      << manifest["data_parallel"];
  EXPECT_EQ(manifest["data_parallel"]["share_history"], nlohmann::json::array({2}));
  EXPECT_EQ(manifest["data_parallel"]["bit_identical_to_uninterrupted"], true);
  const auto emulated = read_json(shares / "manifest.json")["data_parallel"];
  EXPECT_EQ(emulated["ranks"], 1);
  EXPECT_EQ(emulated["shares"], 2);
  // Rank 0 alone writes the run: one start in its log, one row per split and epoch.
  const std::string log = testing::slurp(ranks / "log.txt");
  EXPECT_EQ(testing::count_occurrences(log, "of 'ranks' in"), 1u) << log;
  EXPECT_EQ(metrics_without_timings(ranks).size(), 3u * 2 + 1);

  // Against one share (the whole batch in one oneDNN call): the same trajectory up to float
  // rounding, which the summation order of the weight gradients changes.
  const double nll_difference = largest_nll_difference(ranks, plain);
  const double weight_difference = largest_weight_difference(ranks, plain);
  EXPECT_GT(nll_difference + weight_difference, 0.0) << "two shares sum in another order";
  EXPECT_LT(nll_difference, 1e-5);
  EXPECT_LT(weight_difference, 1e-4);
  std::printf(
      "[ measured ] 2 ranks against 1 share after 3 smoke epochs (45 steps): largest relative "
      "nll difference %.2e, largest weight difference %.2e of the largest weight\n",
      nll_difference, weight_difference);
}

// Starts 2 ranks training `experiment` into `runs` in the background, waits for a checkpoint of the
// unfinished run, and stops it with SIGTERM to mpirun, which passes it on after
// odls_base_sigkill_timeout seconds and gives the ranks as long again to checkpoint
// (docs/scale.md#mpi). Returns the run directory.
fs::path interrupted_run(const ScratchDir& dir, const fs::path& experiment, const fs::path& runs,
                         const std::string& label) {
  const auto resolved = config::resolve_experiment(experiment, {});
  const fs::path run_dir = runs / resolved.config.name / resolved.run_id;
  std::vector<std::string> command = testing::mpirun_words(2);
  command.insert(command.end(), {"--mca", "odls_base_sigkill_timeout", "2", CADENZA_BINARY, "train",
                                 experiment.string(), "--runs-dir", runs.string()});
  testing::BackgroundProcess ranks(command, dir.path(), label);
  const bool checkpointed = testing::wait_until(
      [&] {
        return newest_checkpoint_step(run_dir) > 0 &&
               testing::slurp(run_dir / "manifest.json").find("\"completed\"") == std::string::npos;
      },
      std::chrono::seconds(120));
  EXPECT_TRUE(checkpointed) << ranks.err();
  ::kill(ranks.pid(), SIGTERM);
  ranks.wait();
  EXPECT_EQ(read_json(run_dir / "manifest.json")["status"], "interrupted") << ranks.err();
  return run_dir;
}

TEST(MpiTrain, ResumedOnTheSameRanksBitIdenticalOnOtherRanksSaysItIsNot) {
  ScratchDir dir;
  // Long enough to outlast mpirun's 2 s before it passes SIGTERM on: 20 epochs, 0.1 s each on
  // the AMD EPYC of 2026-12-02, once finished first.
  const fs::path experiment = one_thread_smoke(dir, "resumed", 80);
  const fs::path reference =
      run_dir_of(run_cadenza(train_arguments(experiment, dir / "reference") + " --batch-shares 2"));

  const fs::path same = interrupted_run(dir, experiment, dir / "same", "same");
  const int64_t stopped_at = newest_checkpoint_step(same);
  const auto resumed = run_cadenza_ranks(2, "train --resume '" + same.string() + "'");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_EQ(testing::resumed_at_step(same), stopped_at);
  EXPECT_EQ(metrics_without_timings(same), metrics_without_timings(reference));
  expect_same_weights(same, reference);
  const auto manifest = read_json(same / "manifest.json");
  EXPECT_EQ(manifest["data_parallel"]["share_history"], nlohmann::json::array({2, 2}));
  EXPECT_EQ(manifest["data_parallel"]["bit_identical_to_uninterrupted"], true);
  EXPECT_FALSE(contains(resumed.err, "no longer bit-identical")) << resumed.err;
  EXPECT_GT(stopped_at, 0);

  const fs::path other = interrupted_run(dir, experiment, dir / "other", "other");
  const auto one_rank = run_cadenza("train --resume '" + other.string() + "'");
  ASSERT_EQ(one_rank.exit_code, 0) << one_rank.err;
  EXPECT_TRUE(contains(one_rank.err,
                       "was trained with 2 batch share(s) (MPI ranks) and continues with 1: it is "
                       "no longer bit-identical to an uninterrupted run"))
      << one_rank.err;
  const auto other_manifest = read_json(other / "manifest.json");
  EXPECT_EQ(other_manifest["status"], "completed");
  EXPECT_EQ(other_manifest["data_parallel"]["share_history"], nlohmann::json::array({2, 1}));
  EXPECT_EQ(other_manifest["data_parallel"]["bit_identical_to_uninterrupted"], false);
}

TEST(MpiTrain, ShareCountsThatDoNotFitTheRanksAreRefused) {
  ScratchDir dir;
  const fs::path experiment = one_thread_smoke(dir, "refused", 1);
  const auto three =
      run_cadenza_ranks(2, train_arguments(experiment, dir / "a") + " --batch-shares 3");
  EXPECT_EQ(three.exit_code, 2) << three.err;
  EXPECT_TRUE(contains(three.err, "--batch-shares 3 on 2 MPI ranks")) << three.err;
  const auto negative = run_cadenza(train_arguments(experiment, dir / "b") + " --batch-shares -1");
  EXPECT_EQ(negative.exit_code, 2) << negative.err;
  EXPECT_TRUE(contains(negative.err, "--batch-shares -1: must be at least 1")) << negative.err;
  EXPECT_FALSE(fs::exists(dir / "a")) << "nothing is written before the shares are checked";
}

TEST(MpiTrain, BenchTimesTheDataParallelStep) {
  const auto bench = run_cadenza_ranks(
      2, "bench --config '" + (testing::source_dir() / "experiments" / "bench_lm.json").string() +
             "' --steps 4 --warmup 1 model.hidden_size=32 data.batch_size=4 threads.compute=1");
  ASSERT_EQ(bench.exit_code, 0) << bench.err;
  const auto result = last_json_line(bench.out);
  EXPECT_EQ(result["ranks"], 2);
  EXPECT_GT(result["reduce_ms_median"].get<double>(), 0.0);
  EXPECT_EQ(testing::count_occurrences(bench.out, "frames_per_s"), 1u) << "rank 0 prints";
}

}  // namespace
}  // namespace cadenza
