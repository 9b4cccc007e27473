// Whole-model gradients against central finite differences, for every variant: lm, seq2seq
// without attention, Luong and Bahdanau attention with each score, a bidirectional encoder with
// its bridge, other cells, an input embedding. The layers are checked one by one in tests/nn; this
// proves the assembly (state bridging, attention feedback, input feeding, teacher forcing) routes
// every gradient. The same check runs on token models (one-hot frames scored by a softmax over the
// classes).
#include <gtest/gtest.h>

#include <cmath>

#include "core/rng.hpp"
#include "models/model.hpp"
#include "models/model_variants.hpp"

namespace cadenza {
namespace {

using config::ModelType;

constexpr int kPitches = 5;

// Random frames [steps, batch, kPitches]: keys on with probability 0.4, or (categorical) one
// class per frame.
FrameBlock random_block(int64_t steps, int batch, CounterRng& rng, int64_t padded_tail = 0,
                        FrameOutput output = FrameOutput::kBernoulli) {
  FrameBlock block;
  block.steps = steps;
  block.frames.resize(static_cast<size_t>(steps * batch * kPitches));
  block.mask.assign(static_cast<size_t>(steps * batch), 1.0f);
  if (output == FrameOutput::kCategorical) {
    for (size_t frame = 0; frame < block.mask.size(); ++frame)
      block.frames[frame * kPitches + rng.below(kPitches)] = 1.0f;
  } else {
    for (auto& cell : block.frames)
      cell = rng.uniform() < 0.4f ? 1.0f : 0.0f;
  }
  // The last sample ends early: its final `padded_tail` frames are padding.
  for (int64_t t = steps - padded_tail; t < steps; ++t) {
    block.mask[static_cast<size_t>(t * batch + batch - 1)] = 0.0f;
    for (int p = 0; p < kPitches; ++p) {
      block.frames[static_cast<size_t>((t * batch + batch - 1) * kPitches + p)] = 0.0f;
    }
  }
  return block;
}

Batch make_batch(const config::ModelConfig& model, CounterRng& rng,
                 FrameOutput output = FrameOutput::kBernoulli) {
  Batch batch;
  batch.batch_size = 3;
  batch.pitches = kPitches;
  if (model.type == ModelType::lm) {
    batch.inputs = random_block(6, batch.batch_size, rng, 2, output);
  } else {
    batch.inputs = random_block(4, batch.batch_size, rng, 0, output);
    batch.targets = random_block(5, batch.batch_size, rng, 2, output);
  }
  // Where the samples start in their pieces (the lookback inputs' position counter reads it).
  for (const int64_t start : {0, 3, 10})
    batch.samples.push_back({.sequence = 0, .start_frame = start});
  return batch;
}

using Variant = testing::ModelVariant;

// Two layers of 4 units: small enough for finite differences over every parameter.
config::ModelConfig config_for(const Variant& variant) {
  return testing::variant_config(variant, 4);
}

// Every parameter's gradient (up to 3 elements each) of the variant's model scored as `output`,
// against central differences of the mean training loss.
void expect_gradients_match_finite_differences(const Variant& variant, FrameOutput output) {
  const config::ModelConfig config = config_for(variant);
  auto model = build_model(config, kPitches, 4, 5, output);
  ASSERT_EQ(model->frame_output(), output);
  model->init(7);
  model->set_training(true);
  CounterRng rng(derive_key(99));
  const Batch batch = make_batch(config, rng, output);

  const auto parameters = model->parameters();
  for (const auto& named : parameters)
    named.parameter->grad.zero();
  const LossValue base = model->train_batch(batch, {}, model->scored_frames(batch));
  ASSERT_GT(base.scored_frames, 0);
  EXPECT_EQ(model->scored_frames(batch), base.scored_frames) << "what the loss is a mean over";
  const auto mean_loss = [&] {
    std::vector<Tensor> saved;
    for (const auto& named : parameters)
      saved.push_back(named.parameter->grad);
    const LossValue value = model->train_batch(batch, {}, model->scored_frames(batch));
    for (size_t i = 0; i < parameters.size(); ++i)
      parameters[i].parameter->grad = saved[i];
    return value.total / static_cast<double>(value.scored_frames);
  };

  // A relu has kinks: where a step of eps moves some pre-activation across 0, the central
  // difference mixes the slopes of both sides and means nothing. For relu cells such elements are
  // recognised by their one-sided differences disagreeing, and skipped (at most a quarter).
  const bool kinked = variant.cell == config::Cell::rnn_relu;
  const float eps = kinked ? 1e-3f : 1e-2f;
  int checked = 0, skipped = 0;
  for (const auto& named : parameters) {
    Tensor& value = named.parameter->value;
    const Tensor& grad = named.parameter->grad;
    // Up to 3 elements spread over each parameter.
    const int64_t stride = std::max<int64_t>(1, value.numel() / 3);
    for (int64_t i = 0; i < value.numel(); i += stride) {
      const float original = value[i];
      value[i] = original + eps;
      const double plus = mean_loss();
      value[i] = original - eps;
      const double minus = mean_loss();
      value[i] = original;
      const double numeric = (plus - minus) / (2.0 * eps);
      const double tolerance = 2e-3 + 2e-2 * std::abs(numeric);
      if (kinked) {
        const double at = mean_loss();
        if (std::abs((plus - at) - (at - minus)) / eps > tolerance) {
          ++skipped;
          continue;
        }
      }
      EXPECT_NEAR(grad[i], numeric, tolerance)
          << variant.name << " " << named.name << "[" << i << "]";
      ++checked;
    }
  }
  EXPECT_GT(checked, 20);
  EXPECT_LE(4 * skipped, checked) << skipped << " elements sat on a relu kink";
}

class ModelGradients : public ::testing::TestWithParam<Variant> {};

TEST_P(ModelGradients, MatchFiniteDifferences) {
  expect_gradients_match_finite_differences(GetParam(), FrameOutput::kBernoulli);
}

// Token models: the same variants with one-hot frames and the softmax cross-entropy.
TEST_P(ModelGradients, TokenModelMatchesFiniteDifferences) {
  expect_gradients_match_finite_differences(GetParam(), FrameOutput::kCategorical);
}

INSTANTIATE_TEST_SUITE_P(Variants, ModelGradients, ::testing::ValuesIn(testing::lstm_variants()),
                         [](const ::testing::TestParamInfo<testing::ModelVariant>& entry) {
                           return std::string(entry.param.name);
                         });

INSTANTIATE_TEST_SUITE_P(Cells, ModelGradients, ::testing::ValuesIn(testing::other_cell_variants()),
                         [](const ::testing::TestParamInfo<testing::ModelVariant>& entry) {
                           return std::string(entry.param.name);
                         });

INSTANTIATE_TEST_SUITE_P(Embeddings, ModelGradients,
                         ::testing::ValuesIn(testing::embedding_variants()),
                         [](const ::testing::TestParamInfo<testing::ModelVariant>& entry) {
                           return std::string(entry.param.name);
                         });

// The variants only token models have (the lookback inputs).
class TokenModelGradients : public ::testing::TestWithParam<Variant> {};

TEST_P(TokenModelGradients, MatchFiniteDifferences) {
  expect_gradients_match_finite_differences(GetParam(), FrameOutput::kCategorical);
}

INSTANTIATE_TEST_SUITE_P(Lookback, TokenModelGradients,
                         ::testing::ValuesIn(testing::lookback_variants()),
                         [](const ::testing::TestParamInfo<testing::ModelVariant>& entry) {
                           return std::string(entry.param.name);
                         });

}  // namespace
}  // namespace cadenza

namespace cadenza {
namespace {

// A model is called with many shapes (the last batch of an epoch is smaller, evaluation batches
// segments with other context lengths): cached primitives must never leak from one shape to
// another. The loss of a batch must not depend on what ran before it.
TEST_P(ModelGradients, LossDoesNotDependOnEarlierShapes) {
  const Variant& variant = GetParam();
  const config::ModelConfig config = config_for(variant);
  CounterRng rng(derive_key(5));
  const Batch first = make_batch(config, rng);
  Batch other = make_batch(config, rng);
  // A different batch size and length.
  other.batch_size = 2;
  other.inputs = random_block(first.inputs.steps + 3, 2, rng);
  if (config.type != ModelType::lm) other.targets = random_block(first.targets.steps + 2, 2, rng);

  auto fresh = build_model(config, kPitches, 4, 5);
  fresh->init(3);
  auto used = build_model(config, kPitches, 4, 5);
  used->init(3);
  used->train_batch(other, {}, used->scored_frames(other));
  EXPECT_EQ(fresh->train_batch(first, {}, fresh->scored_frames(first)).total,
            used->train_batch(first, {}, used->scored_frames(first)).total)
      << variant.name;
}

// model.forget_bias reaches every LSTM of the model (encoder and decoder) and no other cell.
TEST(ModelInit, ForgetBiasReachesTheLstmsOfTheModel) {
  config::ModelConfig model;
  model.type = ModelType::seq2seq;
  model.cell = config::Cell::gru;
  model.encoder_cell = config::EncoderCell::lstm;
  model.hidden_size = 4;
  model.forget_bias = 7.0;
  auto built = build_model(model, kPitches, 4, 5);
  built->init(3);
  int lstm_biases = 0;
  for (const auto& [name, parameter] : built->parameters()) {
    if (!name.ends_with("/b") && !name.ends_with("/b_hh")) continue;
    const float* b = parameter->value.data();
    const bool lstm = name.starts_with("encoder/lstm/");
    lstm_biases += lstm;
    EXPECT_EQ(b[4] == 7.0f && b[7] == 7.0f, lstm) << name << ": forget gate block [H, 2H)";
  }
  EXPECT_EQ(lstm_biases, 1) << "one encoder LSTM layer";
}

}  // namespace
}  // namespace cadenza

namespace cadenza {
namespace {

// Every frame's logits of evaluate(split, batch_size), by sequence: rows[s] holds frames 2..T.
std::vector<std::vector<float>> evaluated_rows(SequenceModel& model, const SplitRolls& split,
                                               int batch_size, int64_t first_sequence) {
  std::vector<std::vector<float>> rows(static_cast<size_t>(split.sequences()));
  int64_t first = first_sequence;
  model.evaluate(split, batch_size, [&](const Tensor& logits, const Tensor&, const Tensor& mask) {
    const int64_t steps = logits.dim(0), batch = logits.dim(1);
    for (int64_t t = 0; t < steps; ++t) {
      for (int64_t b = 0; b < batch; ++b) {
        if (mask[t * batch + b] == 0.0f) continue;
        const float* row = logits.data() + (t * batch + b) * kPitches;
        rows[static_cast<size_t>(first + b)].insert(rows[static_cast<size_t>(first + b)].end(), row,
                                                    row + kPitches);
      }
    }
    first += batch;
  });
  return rows;
}

// The lm evaluates a batch of more steps x sequences than one chunk holds (16384 rows; score() in
// models/lm.cpp) chunk by chunk over time, each chunk starting from the states the last ended in:
// its logits equal those of every sequence evaluated alone, where no chunking happens.
TEST(LmEvaluation, LongBatchesInChunksEqualEachSequenceAlone) {
  config::ModelConfig config;
  config.layers = 2;
  config.hidden_size = 6;
  auto model = build_model(config, kPitches, 4, 5);
  model->init(3);
  model->set_training(false);
  SplitRolls split;
  split.pitches = kPitches;
  CounterRng rng(derive_key(17));
  // 40 sequences of 500 to 578 frames: one batch of 40 runs in chunks of 409 steps.
  for (int s = 0; s < 40; ++s) {
    PianoRoll roll;
    roll.frames = 500 + 2 * s;
    roll.pitches = kPitches;
    roll.cells.resize(static_cast<size_t>(roll.frames * kPitches));
    for (auto& cell : roll.cells)
      cell = rng.uniform() < 0.4f ? 1 : 0;
    split.append(roll, "random");
  }
  const auto batched = evaluated_rows(*model, split, 40, 0);
  for (int64_t s = 0; s < split.sequences(); ++s) {
    SplitRolls single;
    single.pitches = kPitches;
    single.append(split.sequence(s, 0), "single");
    const auto alone = evaluated_rows(*model, single, 1, 0)[0];
    const auto& rows = batched[static_cast<size_t>(s)];
    ASSERT_EQ(rows.size(), static_cast<size_t>((split.length(s) - 1) * kPitches)) << s;
    ASSERT_EQ(alone.size(), rows.size()) << s;
    for (size_t i = 0; i < rows.size(); ++i)
      ASSERT_NEAR(rows[i], alone[i], 1e-5f + 1e-5f * std::abs(alone[i]))
          << "sequence " << s << " value " << i;
  }
}

}  // namespace
}  // namespace cadenza
