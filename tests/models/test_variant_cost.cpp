// models/variant_cost.hpp: the synthetic batch has the loader's shapes for each model type, and
// the FLOP count of a training step matches the formula worked out by hand on tiny configs.
#include <gtest/gtest.h>

#include "models/variant_cost.hpp"

namespace cadenza {
namespace {

using config::AttentionKind;
using config::AttentionStyle;
using config::ModelType;

// One layer of two units, batches of one sequence: window 3 (lm), context 2 + target 1 (seq2seq).
config::ExperimentConfig tiny_config(ModelType type, AttentionKind attention,
                                     AttentionStyle style) {
  config::ExperimentConfig config;
  config.model.type = type;
  config.model.attention = attention;
  config.model.attention_style = style;
  config.model.layers = 1;
  config.model.hidden_size = 2;
  config.model.encoder_hidden_size = 0;
  config.model.bidirectional_encoder = false;
  config.data.batch_size = 1;
  config.data.window = 3;
  config.data.context_frames = 2;
  config.data.target_frames = 1;
  return config;
}

TEST(VariantCost, SyntheticBatchHasTheLoaderShapes) {
  config::ExperimentConfig lm =
      tiny_config(ModelType::lm, AttentionKind::none, AttentionStyle::luong);
  lm.data.batch_size = 4;
  const Batch lm_batch = synthetic_batch(lm);
  EXPECT_EQ(lm_batch.batch_size, 4);
  EXPECT_EQ(lm_batch.pitches, kSyntheticPitches);
  EXPECT_EQ(lm_batch.inputs.steps, 3);
  EXPECT_EQ(lm_batch.inputs.frames.size(), 3u * 4u * kSyntheticPitches);
  EXPECT_EQ(lm_batch.inputs.mask.size(), 3u * 4u);
  EXPECT_TRUE(lm_batch.targets.frames.empty());

  config::ExperimentConfig seq2seq =
      tiny_config(ModelType::seq2seq, AttentionKind::none, AttentionStyle::luong);
  seq2seq.data.batch_size = 4;
  const Batch seq2seq_batch = synthetic_batch(seq2seq);
  EXPECT_EQ(seq2seq_batch.inputs.steps, 2);
  EXPECT_EQ(seq2seq_batch.targets.steps, 1);
  EXPECT_EQ(seq2seq_batch.inputs.frames.size(), 2u * 4u * kSyntheticPitches);
  EXPECT_EQ(seq2seq_batch.targets.frames.size(), 1u * 4u * kSyntheticPitches);
}

TEST(VariantCost, SyntheticBatchIsKeyedBySeed) {
  config::ExperimentConfig config =
      tiny_config(ModelType::lm, AttentionKind::none, AttentionStyle::luong);
  const Batch first = synthetic_batch(config);
  EXPECT_EQ(synthetic_batch(config).inputs.frames, first.inputs.frames);
  config.seed += 1;
  EXPECT_NE(synthetic_batch(config).inputs.frames, first.inputs.frames);
}

TEST(VariantCost, TrainingStepFlopsByHand) {
  // lm: 2 scored frames; LSTM 2*4*2*(88+2)*2 = 2880, output 2*2*88*2 = 704; x3.
  EXPECT_DOUBLE_EQ(
      training_step_flops(tiny_config(ModelType::lm, AttentionKind::none, AttentionStyle::luong)),
      3.0 * (2880 + 704));
  // seq2seq: encoder 2*4*2*90*2 = 2880, decoder 2*4*2*90*1 = 1440, output 2*2*88 = 352.
  EXPECT_DOUBLE_EQ(training_step_flops(
                       tiny_config(ModelType::seq2seq, AttentionKind::none, AttentionStyle::luong)),
                   3.0 * (2880 + 1440 + 352));
  // Luong attention adds scores + context 2*2*2*2*1 = 16 and combine 2*(2+2)*2*1 = 16.
  EXPECT_DOUBLE_EQ(training_step_flops(
                       tiny_config(ModelType::seq2seq, AttentionKind::dot, AttentionStyle::luong)),
                   3.0 * (2880 + 1440 + 352 + 32));
  // Bahdanau feeds the context to the decoder: its LSTM input is 88 + 2, 2*4*2*92*1 = 1472.
  EXPECT_DOUBLE_EQ(training_step_flops(tiny_config(ModelType::seq2seq, AttentionKind::dot,
                                                   AttentionStyle::bahdanau)),
                   3.0 * (2880 + 1472 + 352 + 32));
}

}  // namespace
}  // namespace cadenza
