// `cadenza bench`: one JSON line whose figures agree with each other and with the FLOP model the
// docs/performance.md documents, for lm and seq2seq + attention, and exit code 2 for bad arguments.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "support/process.hpp"

namespace cadenza {
namespace {

using testing::run_cadenza;

const std::string kBenchLm = (testing::source_dir() / "experiments" / "bench_lm.json").string();

// Runs bench on bench_lm.json with `overrides`; returns the parsed JSON line.
nlohmann::json bench(const std::string& overrides) {
  const auto result =
      run_cadenza("bench --config '" + kBenchLm + "' --steps 3 --warmup 1 " + overrides);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(std::count(result.out.begin(), result.out.end(), '\n'), 1) << result.out;
  return nlohmann::json::parse(result.out);
}

// 2 * 4H(I + H) multiply-adds per frame and layer, forward + backward = 3 x forward.
double lstm_flops(double input, double hidden, int layers, double frames) {
  double flops = 0.0;
  for (int l = 0; l < layers; ++l)
    flops += 2.0 * 4.0 * hidden * ((l == 0 ? input : hidden) + hidden) * frames;
  return flops;
}

void expect_consistent(const nlohmann::json& line, double flops, double frames) {
  const double step_s = line["step_ms_median"].get<double>() / 1e3;
  ASSERT_GT(step_s, 0.0);
  EXPECT_NEAR(line["model_gflops_per_s"].get<double>() * 1e9 * step_s / flops, 1.0, 1e-9);
  EXPECT_NEAR(line["frames_per_s"].get<double>() * step_s / frames, 1.0, 1e-9);
  const double sgemm = line["sgemm_gflops_per_s"].get<double>();
  const double fraction = line["fraction_of_sgemm_peak"].get<double>();
  EXPECT_TRUE(std::isfinite(sgemm) && sgemm > 0.0) << sgemm;
  EXPECT_TRUE(std::isfinite(fraction) && fraction > 0.0) << fraction;
  EXPECT_GE(line["threads"].get<int>(), 1);
  EXPECT_EQ(line["steps"], 3);
}

TEST(CliBench, LanguageModelLineMatchesTheFlopModel) {
  const auto line = bench("model.hidden_size=32 data.batch_size=4 data.window=17");
  EXPECT_EQ(line["model"], "lm");
  EXPECT_EQ(line["precision"], "f32");
  const double frames = 4 * 16;  // B windows of 17 frames predict 16 frames each
  const double flops = 3.0 * (lstm_flops(88, 32, 2, frames) + 2.0 * 32 * 88 * frames);
  expect_consistent(line, flops, frames);
}

TEST(CliBench, Seq2seqWithLuongAttentionCountsScoresAndCombine) {
  const auto line = bench(
      "model.type=seq2seq model.attention=general model.hidden_size=32 model.layers=1 "
      "data.framing=segments data.batch_size=4 data.context_frames=8 data.target_frames=6");
  EXPECT_EQ(line["model"], "seq2seq");
  const double context = 4 * 8, target = 4 * 6;
  const double forward = lstm_flops(88, 32, 1, context) + lstm_flops(88, 32, 1, target) +
                         2.0 * 32 * 88 * target + 2.0 * 2.0 * 8 * 32 * target +
                         2.0 * (32 + 32) * 32 * target;
  expect_consistent(line, 3.0 * forward, target);
}

TEST(CliBench, BadArgumentsExitTwoNamingTheProblem) {
  const auto zero_steps = run_cadenza("bench --config '" + kBenchLm + "' --steps 0");
  EXPECT_EQ(zero_steps.exit_code, 2);
  EXPECT_NE(zero_steps.err.find("--steps"), std::string::npos) << zero_steps.err;
  EXPECT_TRUE(zero_steps.out.empty());
  const auto missing = run_cadenza("bench --config /nonexistent/bench.json");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("/nonexistent/bench.json"), std::string::npos) << missing.err;
  const auto bad_key = run_cadenza("bench --config '" + kBenchLm + "' model.hidden_size=-3");
  EXPECT_EQ(bad_key.exit_code, 2);
  EXPECT_NE(bad_key.err.find("model.hidden_size"), std::string::npos) << bad_key.err;
}

}  // namespace
}  // namespace cadenza
