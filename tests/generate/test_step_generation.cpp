// The step-wise generation interface (models/model.hpp) against teacher forcing: fed the frames
// of a sequence one at a time, every variant must give the logits evaluate() gives for the same
// frames, stream by stream in a batch, and attention variants must report the weights over the
// encoder window the segmentation implies.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "models/model.hpp"
#include "models/model_variants.hpp"

namespace cadenza {
namespace {

constexpr int kPitches = 6;
constexpr int kContext = 4;
constexpr int kTarget = 3;
constexpr int64_t kLength = 12;  // segments start at 1, 4, 7, 10 (the last one partial)

using Variant = testing::ModelVariant;
using config::AttentionKind;
using config::AttentionStyle;
using config::ModelType;

config::ModelConfig config_for(const Variant& variant) {
  config::ModelConfig config = testing::variant_config(variant, 8);
  // Dropout must be off while generating, whatever the config says.
  config.dropout.output = 0.3;
  return config;
}

// How a variant's frames are scored: the lookback variants need tokens.
FrameOutput output_of(const Variant& variant) {
  return variant.lookback_bar_steps > 0 ? FrameOutput::kCategorical : FrameOutput::kBernoulli;
}

// A split of `sequences` random sequences of kLength frames, about 40% of the keys sounding, or
// (categorical) one-hot frames of random classes.
SplitRolls random_split(int sequences, uint64_t seed,
                        FrameOutput output = FrameOutput::kBernoulli) {
  SplitRolls split;
  split.pitches = kPitches;
  CounterRng rng(derive_key(seed));
  for (int s = 0; s < sequences; ++s) {
    PianoRoll roll;
    roll.frames = kLength;
    roll.pitches = kPitches;
    roll.cells.resize(static_cast<size_t>(kLength * kPitches));
    if (output == FrameOutput::kCategorical) {
      for (int64_t t = 0; t < kLength; ++t)
        roll.at(t, static_cast<int>(rng.below(kPitches))) = 1;
    } else {
      for (auto& cell : roll.cells)
        cell = rng.uniform() < 0.4f ? 1 : 0;
    }
    split.append(roll, "random");
  }
  return split;
}

// Teacher-forced logits of frames 1..kLength-1 of sequence `sequence` ([kLength - 1][P], rows
// of frames evaluate() does not score are left empty).
std::vector<std::vector<float>> evaluated_logits(SequenceModel& model, const SplitRolls& split,
                                                 int64_t sequence) {
  SplitRolls single;
  single.pitches = split.pitches;
  single.append(split.sequence(sequence, 0), "single");
  std::vector<std::vector<float>> rows;
  model.set_training(false);
  // Batches of one segment arrive in frame order (see Seq2SeqModel::evaluate).
  model.evaluate(single, 1, [&](const Tensor& logits, const Tensor&, const Tensor& mask) {
    for (int64_t t = 0; t < logits.dim(0); ++t) {
      if (mask[t] == 0.0f) continue;
      const float* row = logits.data() + t * kPitches;
      rows.emplace_back(row, row + kPitches);
    }
  });
  return rows;
}

// Frames [t0, t1) of every sequence of `split` as [t1 - t0, B, P].
Tensor frames_of(const SplitRolls& split, int64_t t0, int64_t t1) {
  const int64_t batch = split.sequences();
  Tensor frames({t1 - t0, batch, kPitches});
  for (int64_t b = 0; b < batch; ++b) {
    const auto cells = split.sequence_cells(b);
    for (int64_t t = t0; t < t1; ++t) {
      for (int64_t p = 0; p < kPitches; ++p)
        frames[((t - t0) * batch + b) * kPitches + p] = cells[t * kPitches + p];
    }
  }
  return frames;
}

void expect_close(const Tensor& logits, int64_t b, const std::vector<float>& expected,
                  const std::string& where) {
  ASSERT_EQ(expected.size(), static_cast<size_t>(kPitches)) << where;
  for (int64_t p = 0; p < kPitches; ++p) {
    const float got = logits[b * kPitches + p];
    EXPECT_NEAR(got, expected[p], 1e-5f + 1e-5f * std::abs(expected[p])) << where << " key " << p;
  }
}

class StepGeneration : public ::testing::TestWithParam<Variant> {};

TEST_P(StepGeneration, StepLogitsEqualTeacherForcedLogitsForEveryStream) {
  const Variant& variant = GetParam();
  auto model = build_model(config_for(variant), kPitches, kContext, kTarget, output_of(variant));
  model->init(11);
  const SplitRolls split = random_split(3, 5, output_of(variant));
  std::vector<std::vector<std::vector<float>>> expected;
  for (int64_t s = 0; s < split.sequences(); ++s)
    expected.push_back(evaluated_logits(*model, split, s));
  ASSERT_EQ(expected[0].size(), static_cast<size_t>(kLength - 1));

  Tensor logits;
  model->begin_generation(frames_of(split, 0, 1), logits);
  ASSERT_EQ(logits.dims(), (std::vector<int64_t>{3, kPitches}));
  for (int64_t t = 1; t < kLength; ++t) {
    for (int64_t b = 0; b < 3; ++b) {
      expect_close(logits, b, expected[b][t - 1],
                   fmt::format("{} stream {} frame {}", variant.name, b, t));
    }
    if (t + 1 < kLength) {
      const Tensor frame = frames_of(split, t, t + 1);
      Tensor row({3, kPitches});
      std::copy_n(frame.data(), row.numel(), row.data());
      model->continue_generation(row, logits);
    }
  }
}

// A longer history is read at once; the segmentation of evaluate() resumes where it ends
// (1 + kTarget frames: the second segment's start).
TEST_P(StepGeneration, LongerHistoryContinuesLikeTeacherForcing) {
  const Variant& variant = GetParam();
  auto model = build_model(config_for(variant), kPitches, kContext, kTarget, output_of(variant));
  model->init(12);
  const SplitRolls split = random_split(2, 6, output_of(variant));
  const auto expected0 = evaluated_logits(*model, split, 0);
  const auto expected1 = evaluated_logits(*model, split, 1);
  constexpr int64_t kHistory = 1 + kTarget;
  Tensor logits;
  model->begin_generation(frames_of(split, 0, kHistory), logits);
  for (int64_t t = kHistory; t < kLength; ++t) {
    expect_close(logits, 0, expected0[t - 1], fmt::format("{} frame {}", variant.name, t));
    expect_close(logits, 1, expected1[t - 1], fmt::format("{} frame {}", variant.name, t));
    if (t + 1 < kLength) {
      const Tensor frame = frames_of(split, t, t + 1);
      Tensor row({2, kPitches});
      std::copy_n(frame.data(), row.numel(), row.data());
      model->continue_generation(row, logits);
    }
  }
}

TEST_P(StepGeneration, AttentionCoversTheEncoderWindowOfEachSegment) {
  const Variant& variant = GetParam();
  auto model = build_model(config_for(variant), kPitches, kContext, kTarget, output_of(variant));
  model->init(13);
  const SplitRolls split = random_split(2, 7, output_of(variant));
  Tensor logits;
  model->begin_generation(frames_of(split, 0, 1), logits);
  const bool has_attention = variant.attention != AttentionKind::none;
  for (int64_t t = 1; t < kLength; ++t) {
    const GenerationAttention attention = model->generation_attention();
    if (!has_attention) {
      EXPECT_TRUE(attention.weights.empty());
    } else {
      // Frame t belongs to the segment starting at s = 1 + kTarget * floor((t - 1) / kTarget);
      // the encoder read frames [s - min(kContext, s), s).
      const int64_t start = 1 + kTarget * ((t - 1) / kTarget);
      const int64_t keys = std::min<int64_t>(kContext, start);
      ASSERT_EQ(attention.weights.dims(), (std::vector<int64_t>{2, keys})) << "frame " << t;
      EXPECT_EQ(attention.first_frame, start - keys) << "frame " << t;
      for (int64_t b = 0; b < 2; ++b) {
        double sum = 0.0;
        for (int64_t k = 0; k < keys; ++k) {
          const float w = attention.weights[b * keys + k];
          EXPECT_GE(w, 0.0f);
          sum += w;
        }
        EXPECT_NEAR(sum, 1.0, 1e-5) << "frame " << t << " stream " << b;
      }
    }
    const Tensor frame = frames_of(split, t, t + 1);
    Tensor row({2, kPitches});
    std::copy_n(frame.data(), row.numel(), row.data());
    model->continue_generation(row, logits);
  }
}

TEST(StepGenerationErrors, ContinuingBeforeBeginningOrWithWrongShapesIsAnError) {
  config::ModelConfig lm;
  auto model = build_model(lm, kPitches, kContext, kTarget);
  model->init(1);
  Tensor logits;
  EXPECT_THROW(model->continue_generation(Tensor({1, kPitches}), logits), Error);
  EXPECT_THROW(model->begin_generation(Tensor({1, 1, kPitches + 1}), logits), Error);
  config::ModelConfig seq2seq;
  seq2seq.type = ModelType::seq2seq;
  auto encoder_decoder = build_model(seq2seq, kPitches, kContext, kTarget);
  encoder_decoder->init(1);
  EXPECT_THROW(encoder_decoder->continue_generation(Tensor({1, kPitches}), logits), Error);
  encoder_decoder->begin_generation(Tensor({2, 2, kPitches}), logits);
  EXPECT_THROW(encoder_decoder->continue_generation(Tensor({3, kPitches}), logits), Error);
}

INSTANTIATE_TEST_SUITE_P(
    Variants, StepGeneration,
    ::testing::Values(Variant{"lm", ModelType::lm, AttentionKind::none, AttentionStyle::luong, 0,
                              false},
                      Variant{"seq2seq", ModelType::seq2seq, AttentionKind::none,
                              AttentionStyle::luong, 0, false},
                      Variant{"seq2seq_bidirectional_bridge", ModelType::seq2seq,
                              AttentionKind::none, AttentionStyle::luong, 5, true},
                      Variant{"luong_dot", ModelType::seq2seq, AttentionKind::dot,
                              AttentionStyle::luong, 0, false},
                      Variant{"luong_general", ModelType::seq2seq, AttentionKind::general,
                              AttentionStyle::luong, 0, false},
                      Variant{"luong_additive_bidirectional", ModelType::seq2seq,
                              AttentionKind::additive, AttentionStyle::luong, 0, true},
                      Variant{"bahdanau_additive", ModelType::seq2seq, AttentionKind::additive,
                              AttentionStyle::bahdanau, 0, false},
                      Variant{"bahdanau_general_bridge", ModelType::seq2seq, AttentionKind::general,
                              AttentionStyle::bahdanau, 6, false}),
    [](const ::testing::TestParamInfo<Variant>& entry) { return std::string(entry.param.name); });

INSTANTIATE_TEST_SUITE_P(Cells, StepGeneration, ::testing::ValuesIn(testing::other_cell_variants()),
                         [](const ::testing::TestParamInfo<testing::ModelVariant>& entry) {
                           return std::string(entry.param.name);
                         });

INSTANTIATE_TEST_SUITE_P(Embeddings, StepGeneration,
                         ::testing::ValuesIn(testing::embedding_variants()),
                         [](const ::testing::TestParamInfo<testing::ModelVariant>& entry) {
                           return std::string(entry.param.name);
                         });

INSTANTIATE_TEST_SUITE_P(Lookback, StepGeneration,
                         ::testing::ValuesIn(testing::lookback_variants()),
                         [](const ::testing::TestParamInfo<testing::ModelVariant>& entry) {
                           return std::string(entry.param.name);
                         });

}  // namespace
}  // namespace cadenza
