// Scheduled sampling's feedback: which frames it replaces, how often, with what, and that the
// draws depend only on (seed, step). The training-level effects are in test_train_e2e.cpp.
#include <gtest/gtest.h>

#include <vector>

#include "models/scheduled_sampling.hpp"

namespace cadenza {
namespace {

constexpr int64_t kSteps = 40, kBatch = 50, kKeys = 8;

// Frames whose value is the row index t (distinct from any 0/1 sample).
Tensor numbered_inputs() {
  Tensor inputs({kSteps, kBatch, kKeys});
  for (int64_t t = 0; t < kSteps; ++t) {
    for (int64_t i = 0; i < kBatch * kKeys; ++i)
      inputs[t * kBatch * kKeys + i] = static_cast<float>(t + 2);
  }
  return inputs;
}

ScheduledSampling sampling(double probability, int64_t ramp_steps, uint64_t step) {
  config::ScheduledSamplingConfig config;
  config.probability = probability;
  config.ramp_steps = ramp_steps;
  ScheduledSampling result(config, FrameOutput::kBernoulli);
  result.set_step(7, step);
  return result;
}

// Number of (row, sequence) frames that no longer hold their row number.
int64_t replaced_frames(const Tensor& inputs) {
  int64_t replaced = 0;
  for (int64_t frame = 0; frame < kSteps * kBatch; ++frame) {
    const float original = static_cast<float>(frame / kBatch + 2);
    replaced += inputs[frame * kKeys] != original ? 1 : 0;
  }
  return replaced;
}

TEST(ScheduledSampling, ZeroProbabilityIsTeacherForcing) {
  const auto feedback = sampling(0.0, 0, 3);
  EXPECT_FALSE(feedback.active());
  Tensor inputs = numbered_inputs();
  feedback.feed_back(Tensor({kSteps, kBatch, kKeys}), inputs);
  EXPECT_EQ(replaced_frames(inputs), 0);
}

TEST(ScheduledSampling, ProbabilityOneReplacesEveryFrameButTheFirstWithSamples) {
  Tensor logits({kSteps, kBatch, kKeys});
  // Keys 0..3 are certain (+-40), keys 4..7 are coin flips (logit 0).
  for (int64_t i = 0; i < logits.numel(); ++i) {
    const int64_t key = i % kKeys;
    logits[i] = key < 2 ? 40.0f : key < 4 ? -40.0f : 0.0f;
  }
  Tensor inputs = numbered_inputs();
  sampling(1.0, 0, 3).feed_back(logits, inputs);
  int64_t ones = 0, coins = 0;
  for (int64_t t = 0; t < kSteps; ++t) {
    for (int64_t b = 0; b < kBatch; ++b) {
      const float* frame = inputs.data() + (t * kBatch + b) * kKeys;
      if (t == 0) {
        EXPECT_EQ(frame[0], 2.0f) << "the first decoder input is never replaced";
        continue;
      }
      EXPECT_EQ(frame[0], 1.0f);
      EXPECT_EQ(frame[1], 1.0f);
      EXPECT_EQ(frame[2], 0.0f);
      EXPECT_EQ(frame[3], 0.0f);
      for (int64_t k = 4; k < kKeys; ++k) {
        EXPECT_TRUE(frame[k] == 0.0f || frame[k] == 1.0f);
        ones += frame[k] == 1.0f ? 1 : 0;
        ++coins;
      }
    }
  }
  // 7800 fair coins: 0.5 +- 0.03 is more than 5 standard deviations.
  EXPECT_NEAR(static_cast<double>(ones) / static_cast<double>(coins), 0.5, 0.03);
}

TEST(ScheduledSampling, ReplacesAboutTheConfiguredShareOfFrames) {
  Tensor inputs = numbered_inputs();
  sampling(0.3, 0, 3).feed_back(Tensor({kSteps, kBatch, kKeys}), inputs);
  const double share = static_cast<double>(replaced_frames(inputs)) / ((kSteps - 1) * kBatch);
  // 1950 frames: the standard deviation of the share is about 0.01.
  EXPECT_NEAR(share, 0.3, 0.05);
}

TEST(ScheduledSampling, DrawsDependOnlyOnSeedAndStep) {
  const Tensor logits({kSteps, kBatch, kKeys});
  Tensor first = numbered_inputs(), again = numbered_inputs(), next_step = numbered_inputs();
  sampling(0.5, 0, 3).feed_back(logits, first);
  sampling(0.5, 0, 3).feed_back(logits, again);
  sampling(0.5, 0, 4).feed_back(logits, next_step);
  const auto values = [](const Tensor& t) {
    return std::vector<float>(t.values().begin(), t.values().end());
  };
  EXPECT_EQ(values(first), values(again));
  EXPECT_NE(values(first), values(next_step));
}

TEST(ScheduledSampling, RampRaisesTheProbabilityLinearly) {
  EXPECT_DOUBLE_EQ(sampling(0.4, 100, 0).probability(), 0.0);
  EXPECT_DOUBLE_EQ(sampling(0.4, 100, 25).probability(), 0.1);
  EXPECT_DOUBLE_EQ(sampling(0.4, 100, 100).probability(), 0.4);
  EXPECT_DOUBLE_EQ(sampling(0.4, 100, 5000).probability(), 0.4);
  EXPECT_DOUBLE_EQ(sampling(0.4, 0, 0).probability(), 0.4);
}

}  // namespace
}  // namespace cadenza
