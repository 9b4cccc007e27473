// Sampling frames from logits (generate/sampler.hpp): determinism keyed by (seed, sample, frame),
// Bernoulli frequencies that follow sigmoid(logit / temperature), the low-temperature limit, and
// the polyphony limits; for token models, one event per row drawn from the softmax restricted by
// top-k and top-p, its frequencies checked by a chi-squared test (Boost.Math).
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/math/distributions/chi_squared.hpp>
#include <cmath>
#include <functional>
#include <tuple>
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

constexpr int64_t kClasses = 38;

// One row of event logits, every class different: class c at 0.15 c - 2 (c mod 5).
Tensor event_logits(int64_t batch) {
  Tensor logits({batch, kClasses});
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t c = 0; c < kClasses; ++c)
      logits[b * kClasses + c] = 0.15f * static_cast<float>(c) - 2.0f * static_cast<float>(c % 5);
  }
  return logits;
}

// The class of each one-hot row; fails the test for a row that is not one-hot.
std::vector<int64_t> drawn_classes(const Tensor& frames) {
  std::vector<int64_t> classes;
  for (int64_t b = 0; b < frames.dim(0); ++b) {
    int64_t found = -1, ones = 0;
    for (int64_t c = 0; c < kClasses; ++c) {
      if (frames[b * kClasses + c] == 1.0f) found = c, ++ones;
    }
    EXPECT_EQ(ones, 1) << "row " << b;
    classes.push_back(found);
  }
  return classes;
}

// Draws `rows` events and checks their counts against event_distribution by Pearson's chi-squared
// test (classes of expected count < 5 pooled), at significance 1e-4; draws outside the kept
// classes fail outright. Returns how many classes were kept.
int64_t expect_draws_follow_the_distribution(const SamplingOptions& options) {
  const int64_t rows = 40000;
  const Tensor logits = event_logits(rows);
  Tensor frames;
  sample_events(logits, options, 0, 7, frames);
  const std::vector<double> p = event_distribution(logits.data(), kClasses, options);
  std::vector<double> counts(kClasses, 0.0);
  for (const int64_t c : drawn_classes(frames))
    counts[static_cast<size_t>(c)] += 1.0;
  double statistic = 0.0, pooled_expected = 0.0, pooled_count = 0.0;
  int64_t cells = 0, kept = 0;
  for (int64_t c = 0; c < kClasses; ++c) {
    if (p[c] == 0.0) {
      EXPECT_EQ(counts[c], 0.0) << "class " << c << " is outside top-k / top-p";
      continue;
    }
    ++kept;
    const double expected = p[c] * rows;
    if (expected < 5.0) {
      pooled_expected += expected;
      pooled_count += counts[c];
      continue;
    }
    statistic += (counts[c] - expected) * (counts[c] - expected) / expected;
    ++cells;
  }
  if (pooled_expected > 0.0) {
    statistic += (pooled_count - pooled_expected) * (pooled_count - pooled_expected) /
                 std::max(pooled_expected, 1e-12);
    ++cells;
  }
  if (cells > 1) {
    const boost::math::chi_squared chi2(static_cast<double>(cells - 1));
    EXPECT_LT(statistic, boost::math::quantile(boost::math::complement(chi2, 1e-4)))
        << "top_k " << options.top_k << " top_p " << options.top_p << " temperature "
        << options.temperature;
  }
  return kept;
}

TEST(EventSampler, DrawsFollowTheSoftmaxAndItsTopKAndTopPRestrictions) {
  SamplingOptions options;
  EXPECT_EQ(expect_draws_follow_the_distribution(options), kClasses);
  options.temperature = 0.7;
  EXPECT_EQ(expect_draws_follow_the_distribution(options), kClasses);
  options = {};
  options.top_k = 4;
  EXPECT_EQ(expect_draws_follow_the_distribution(options), 4);
  options = {};
  options.top_p = 0.6;
  const int64_t nucleus = expect_draws_follow_the_distribution(options);
  // The nucleus is the smallest prefix of the classes by probability that reaches top_p.
  const Tensor row = event_logits(1);
  SamplingOptions all;
  std::vector<double> p = event_distribution(row.data(), kClasses, all);
  std::sort(p.begin(), p.end(), std::greater<>());
  double before = 0.0;
  for (int64_t i = 0; i + 1 < nucleus; ++i)
    before += p[static_cast<size_t>(i)];
  EXPECT_LT(before, 0.6);
  EXPECT_GE(before + p[static_cast<size_t>(nucleus - 1)], 0.6);
  EXPECT_GT(nucleus, 1);
  options.top_k = 2;  // both: at most 2 classes, the nucleus's first two
  EXPECT_EQ(expect_draws_follow_the_distribution(options), 2);
}

TEST(EventSampler, KeyedBySeedSampleAndStepAndSharpAtLowTemperature) {
  const Tensor logits = event_logits(64);
  SamplingOptions options;
  options.seed = 5;
  Tensor a, b, other_seed, other_step, shifted;
  sample_events(logits, options, 0, 3, a);
  sample_events(logits, options, 0, 3, b);
  EXPECT_EQ(drawn_classes(a), drawn_classes(b));
  sample_events(logits, options, 0, 4, other_step);
  EXPECT_NE(drawn_classes(a), drawn_classes(other_step));
  options.seed = 6;
  sample_events(logits, options, 0, 3, other_seed);
  EXPECT_NE(drawn_classes(a), drawn_classes(other_seed));
  // Sample s draws the same event whatever batch it sits in.
  options.seed = 5;
  const Tensor tail = event_logits(32);
  sample_events(tail, options, 32, 3, shifted);
  const std::vector<int64_t> whole = drawn_classes(a), part = drawn_classes(shifted);
  EXPECT_EQ(std::vector<int64_t>(whole.begin() + 32, whole.end()), part);

  options.temperature = 1e-3;
  Tensor sharp;
  sample_events(logits, options, 0, 3, sharp);
  const int64_t best = std::max_element(logits.data(), logits.data() + kClasses) - logits.data();
  for (const int64_t c : drawn_classes(sharp))
    EXPECT_EQ(c, best);
}

TEST(EventSampler, OptionsOutOfRangeAreRefused) {
  const Tensor logits = event_logits(2);
  Tensor frames;
  for (const auto& [top_k, top_p, temperature] : std::vector<std::tuple<int, double, double>>{
           {-1, 1.0, 1.0}, {39, 1.0, 1.0}, {0, 0.0, 1.0}, {0, 1.5, 1.0}, {0, 1.0, 0.0}}) {
    SamplingOptions options;
    options.top_k = top_k;
    options.top_p = top_p;
    options.temperature = temperature;
    EXPECT_THROW(sample_events(logits, options, 0, 0, frames), Error)
        << top_k << " " << top_p << " " << temperature;
  }
}

}  // namespace
}  // namespace cadenza
