// Beam search over events (generate/beam_search.hpp) on small untrained token models: with a beam
// as wide as every prefix it finds exactly the most probable continuations an exhaustive search
// finds; a beam of 1 is greedy decoding through the step-wise interface, attention maps included;
// the result depends on
// nothing but the model and the primer; and only token models are searched.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "generate/beam_search.hpp"
#include "models/model_variants.hpp"

namespace cadenza {
namespace {

constexpr int kClasses = 6;

std::unique_ptr<SequenceModel> token_model(const testing::ModelVariant& variant) {
  auto model =
      build_model(testing::variant_config(variant, 8), kClasses, 3, 2, FrameOutput::kCategorical);
  model->init(11);
  model->set_training(false);
  return model;
}

std::unique_ptr<SequenceModel> token_lm() {
  return token_model(testing::lstm_variants().front());
}

// Events 2, 0, 5 as one-hot frames.
PianoRoll primer() {
  PianoRoll roll;
  roll.pitches = kClasses;
  roll.frames = 3;
  roll.cells.assign(3 * kClasses, 0);
  roll.at(0, 2) = roll.at(1, 0) = roll.at(2, 5) = 1;
  return roll;
}

double log_softmax(const Tensor& logits, int64_t row, int64_t c) {
  const float* x = logits.data() + row * kClasses;
  double total = 0.0;
  for (int64_t k = 0; k < kClasses; ++k)
    total += std::exp(static_cast<double>(x[k]));
  return static_cast<double>(x[c]) - std::log(total);
}

int64_t event_at(const PianoRoll& roll, int64_t t) {
  for (int c = 0; c < kClasses; ++c) {
    if (roll.at(t, c) != 0) return c;
  }
  return -1;
}

TEST(BeamSearch, AsWideAsEveryPrefixItFindsWhatAnExhaustiveSearchFinds) {
  auto model = token_lm();
  const PianoRoll start = primer();
  // Every continuation of two events, scored from the model's logits directly.
  Tensor history({start.frames, 1, kClasses}), first;
  for (int64_t t = 0; t < start.frames; ++t)
    history[t * kClasses + event_at(start, t)] = 1.0f;
  model->begin_generation(history, first);
  Tensor extended({start.frames + 1, kClasses, kClasses}), second;
  for (int64_t b = 0; b < kClasses; ++b) {
    for (int64_t t = 0; t < start.frames; ++t)
      extended[(t * kClasses + b) * kClasses + event_at(start, t)] = 1.0f;
    extended[(start.frames * kClasses + b) * kClasses + b] = 1.0f;
  }
  model->begin_generation(extended, second);
  std::vector<double> exhaustive;
  for (int64_t a = 0; a < kClasses; ++a) {
    for (int64_t b = 0; b < kClasses; ++b)
      exhaustive.push_back(log_softmax(first, 0, a) + log_softmax(second, a, b));
  }
  std::sort(exhaustive.begin(), exhaustive.end(), std::greater<>());

  const auto beams = beam_search(*model, start, 2, kClasses * kClasses, kClasses * kClasses);
  ASSERT_EQ(beams.size(), exhaustive.size());
  for (size_t i = 0; i < beams.size(); ++i) {
    EXPECT_NEAR(beams[i].log_probability, exhaustive[i], 1e-9) << "beam " << i;
    EXPECT_NEAR(beams[i].score, exhaustive[i] / 2, 1e-9);
    EXPECT_EQ(beams[i].sample.primer_frames, start.frames);
    for (int64_t t = 0; t < start.frames; ++t)
      EXPECT_EQ(event_at(beams[i].sample.roll, t), event_at(start, t)) << "the primer comes first";
  }
  // A beam as wide as the first step's choices already keeps the best continuation.
  const auto narrow = beam_search(*model, start, 2, kClasses, 1);
  ASSERT_EQ(narrow.size(), 1u);
  EXPECT_NEAR(narrow[0].log_probability, exhaustive[0], 1e-9);
}

TEST(BeamSearch, ABeamOfOneIsGreedyDecodingThroughTheStepWiseInterface) {
  for (const testing::ModelVariant& variant : testing::lstm_variants()) {
    auto model = token_model(variant);
    const PianoRoll start = primer();
    const int64_t frames = 7;
    const auto beams = beam_search(*model, start, frames, 1, 1);
    ASSERT_EQ(beams.size(), 1u);
    Tensor history({start.frames, 1, kClasses}), logits, frame({1, kClasses});
    for (int64_t t = 0; t < start.frames; ++t)
      history[t * kClasses + event_at(start, t)] = 1.0f;
    model->begin_generation(history, logits);
    for (int64_t t = 0; t < frames; ++t) {
      // The beam's attention map row of this step is what the step-wise decoder attended to.
      const GenerationAttention attention = model->generation_attention();
      if (attention.weights.empty()) {
        EXPECT_TRUE(beams[0].sample.attention.empty()) << variant.name;
      } else {
        ASSERT_EQ(beams[0].sample.attention.size(), static_cast<size_t>(frames)) << variant.name;
        const AttentionRow& row = beams[0].sample.attention[static_cast<size_t>(t)];
        EXPECT_EQ(row.frame, start.frames + t) << variant.name;
        EXPECT_EQ(row.first_key_frame, attention.first_frame) << variant.name << " step " << t;
        ASSERT_EQ(static_cast<int64_t>(row.weights.size()), attention.weights.dim(1));
        for (size_t k = 0; k < row.weights.size(); ++k)
          EXPECT_NEAR(row.weights[k], attention.weights[static_cast<int64_t>(k)], 1e-5f)
              << variant.name << " step " << t << " key " << k;
      }
      const int64_t best =
          std::max_element(logits.data(), logits.data() + kClasses) - logits.data();
      EXPECT_EQ(event_at(beams[0].sample.roll, start.frames + t), best)
          << variant.name << " step " << t;
      frame.zero();
      frame[best] = 1.0f;
      if (t + 1 < frames) model->continue_generation(frame, logits);
    }
    const auto again = beam_search(*model, start, frames, 3, 3);
    const auto repeat = beam_search(*model, start, frames, 3, 3);
    for (size_t i = 0; i < again.size(); ++i) {
      EXPECT_EQ(again[i].sample.roll.cells, repeat[i].sample.roll.cells) << variant.name;
      if (i > 0) {
        EXPECT_GE(again[i - 1].log_probability, again[i].log_probability);
      }
    }
  }
}

TEST(BeamSearch, OnlyTokenModelsAndSensibleWidthsAreSearched) {
  auto piano = build_model(testing::variant_config(testing::lstm_variants().front(), 8), kClasses,
                           3, 2, FrameOutput::kBernoulli);
  piano->init(1);
  EXPECT_THROW(beam_search(*piano, primer(), 2, 2, 1), Error);
  auto model = token_lm();
  EXPECT_THROW(beam_search(*model, primer(), 2, 2, 3), Error) << "more beams kept than searched";
  EXPECT_THROW(beam_search(*model, primer(), 0, 2, 1), Error);
  EXPECT_THROW(beam_search(*model, primer(), 2, 0, 1), Error);
}

}  // namespace
}  // namespace cadenza
