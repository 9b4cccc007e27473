// Sampling frames from logits (generate/sampler.hpp): determinism keyed by (seed, sample, frame),
// Bernoulli frequencies that follow sigmoid(logit / temperature), the low-temperature limit, and
// the polyphony limits.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/error.hpp"
#include "generate/sampler.hpp"

namespace cadenza {
namespace {

constexpr int64_t kPitches = 88;

// logits [batch, kPitches] with key k of every row at value(k).
template <class F>
Tensor logits_of(int64_t batch, F value) {
  Tensor logits({batch, kPitches});
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t k = 0; k < kPitches; ++k)
      logits[b * kPitches + k] = value(k);
  }
  return logits;
}

std::vector<float> row_of(const Tensor& frames, int64_t b) {
  return {frames.data() + b * kPitches, frames.data() + (b + 1) * kPitches};
}

int64_t notes_in(const Tensor& frames, int64_t b) {
  int64_t notes = 0;
  for (const float cell : row_of(frames, b))
    notes += cell != 0.0f;
  return notes;
}

TEST(Sampler, SameSeedSameFramesAndOtherSeedsOtherFrames) {
  const Tensor logits = logits_of(4, [](int64_t) { return 0.0f; });
  SamplingOptions options;
  options.seed = 42;
  Tensor first, again, other_seed, other_frame;
  sample_frames(logits, options, 0, 7, first);
  sample_frames(logits, options, 0, 7, again);
  EXPECT_EQ(first.values().size(), again.values().size());
  EXPECT_TRUE(std::equal(first.values().begin(), first.values().end(), again.values().begin()));
  sample_frames(logits, options, 0, 8, other_frame);
  options.seed = 43;
  sample_frames(logits, options, 0, 7, other_seed);
  // p = 0.5 on 4 x 88 keys: two independent draws agree everywhere with probability 2^-352.
  EXPECT_FALSE(
      std::equal(first.values().begin(), first.values().end(), other_seed.values().begin()));
  EXPECT_FALSE(
      std::equal(first.values().begin(), first.values().end(), other_frame.values().begin()));
  // Samples in one batch draw from distinct streams.
  EXPECT_NE(row_of(first, 0), row_of(first, 1));
}

TEST(Sampler, ASampleDrawsTheSameWhateverBatchItSitsIn) {
  const Tensor batch_logits =
      logits_of(3, [](int64_t k) { return 0.05f * static_cast<float>(k % 9) - 0.2f; });
  const Tensor single_logits =
      logits_of(1, [](int64_t k) { return 0.05f * static_cast<float>(k % 9) - 0.2f; });
  SamplingOptions options;
  Tensor batch, single;
  sample_frames(batch_logits, options, 0, 3, batch);
  sample_frames(single_logits, options, 2, 3, single);
  EXPECT_EQ(row_of(batch, 2), row_of(single, 0));
}

TEST(Sampler, KeyFrequenciesFollowSigmoidOfLogitOverTemperature) {
  // Key k has logit -3 + 6k/87; 2000 frames x 4 samples = 8000 draws per key.
  const auto logit = [](int64_t k) { return -3.0f + 6.0f * static_cast<float>(k) / 87.0f; };
  const Tensor logits = logits_of(4, logit);
  for (const double temperature : {0.5, 1.0, 2.0}) {
    SamplingOptions options;
    options.seed = 9;
    options.temperature = temperature;
    std::vector<int64_t> on(kPitches, 0);
    constexpr int64_t kFrames = 2000;
    Tensor frames;
    for (int64_t t = 0; t < kFrames; ++t) {
      sample_frames(logits, options, 0, t, frames);
      for (int64_t b = 0; b < 4; ++b) {
        for (int64_t k = 0; k < kPitches; ++k)
          on[k] += frames[b * kPitches + k] != 0.0f;
      }
    }
    const double draws = 4.0 * kFrames;
    for (int64_t k = 0; k < kPitches; ++k) {
      const double p = 1.0 / (1.0 + std::exp(-logit(k) / temperature));
      const double sigma = std::sqrt(p * (1.0 - p) / draws);
      EXPECT_NEAR(static_cast<double>(on[k]) / draws, p, 5.0 * sigma + 1e-4)
          << "temperature " << temperature << " key " << k;
    }
  }
}

TEST(Sampler, LowTemperatureThresholdsAtLogitZero) {
  const auto logit = [](int64_t k) {
    return k % 2 == 0 ? 0.1f * static_cast<float>(1 + k % 7)
                      : -0.1f * static_cast<float>(1 + k % 5);
  };
  const Tensor logits = logits_of(8, logit);
  SamplingOptions options;
  options.temperature = 1e-3;
  Tensor frames;
  for (int64_t t = 0; t < 20; ++t) {
    sample_frames(logits, options, 0, t, frames);
    for (int64_t b = 0; b < 8; ++b) {
      for (int64_t k = 0; k < kPitches; ++k)
        ASSERT_EQ(frames[b * kPitches + k], logit(k) > 0 ? 1.0f : 0.0f) << "key " << k;
    }
  }
}

TEST(Sampler, MaxPolyphonyKeepsTheMostProbableDrawnKeys) {
  // Keys 10..19 are near-certain (logit 20 - k/10); the rest never sound.
  const Tensor logits = logits_of(5, [](int64_t k) {
    return k >= 10 && k < 20 ? 20.0f - 0.1f * static_cast<float>(k) : -40.0f;
  });
  SamplingOptions options;
  options.max_polyphony = 3;
  Tensor frames;
  sample_frames(logits, options, 0, 0, frames);
  for (int64_t b = 0; b < 5; ++b) {
    EXPECT_EQ(notes_in(frames, b), 3);
    EXPECT_EQ(frames[b * kPitches + 10], 1.0f);
    EXPECT_EQ(frames[b * kPitches + 11], 1.0f);
    EXPECT_EQ(frames[b * kPitches + 12], 1.0f);
  }
  // Equal probabilities: the lower keys win.
  const Tensor flat = logits_of(1, [](int64_t k) { return k < 6 ? 30.0f : -40.0f; });
  options.max_polyphony = 2;
  sample_frames(flat, options, 0, 0, frames);
  EXPECT_EQ(notes_in(frames, 0), 2);
  EXPECT_EQ(frames[0], 1.0f);
  EXPECT_EQ(frames[1], 1.0f);
}

TEST(Sampler, MinNotesAddsTheMostProbableUndrawnKeys) {
  // Nothing would sound; keys 40 and 47 are the least improbable.
  const Tensor logits = logits_of(3, [](int64_t k) {
    return k == 47 ? -30.0f : k == 40 ? -31.0f : -50.0f;
  });
  SamplingOptions options;
  options.min_notes = 2;
  Tensor frames;
  sample_frames(logits, options, 0, 0, frames);
  for (int64_t b = 0; b < 3; ++b) {
    EXPECT_EQ(notes_in(frames, b), 2);
    EXPECT_EQ(frames[b * kPitches + 47], 1.0f);
    EXPECT_EQ(frames[b * kPitches + 40], 1.0f);
  }
  // A frame that already has enough keys is left alone.
  const Tensor certain = logits_of(1, [](int64_t k) { return k < 5 ? 40.0f : -40.0f; });
  sample_frames(certain, options, 0, 0, frames);
  EXPECT_EQ(notes_in(frames, 0), 5);
}

TEST(Sampler, OutOfRangeOptionsAreErrors) {
  const Tensor logits = logits_of(1, [](int64_t) { return 0.0f; });
  Tensor frames;
  for (const SamplingOptions options :
       {SamplingOptions{1, 0.0, 0, 0}, SamplingOptions{1, -1.0, 0, 0},
        SamplingOptions{1, 1.0, 89, 0}, SamplingOptions{1, 1.0, 2, 3},
        SamplingOptions{1, 1.0, 0, -1}}) {
    EXPECT_THROW(sample_frames(logits, options, 0, 0, frames), Error)
        << options.temperature << " " << options.max_polyphony << " " << options.min_notes;
  }
}

}  // namespace
}  // namespace cadenza
