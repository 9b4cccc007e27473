#include "models/variant_cost.hpp"

#include "core/rng.hpp"
#include "models/recurrent_config.hpp"

namespace cadenza {

Batch synthetic_batch(const config::ExperimentConfig& config) {
  CounterRng rng(derive_key(static_cast<uint64_t>(config.seed), 0xBE4C));
  const auto block = [&](int64_t steps) {
    FrameBlock frames;
    frames.steps = steps;
    frames.frames.resize(static_cast<size_t>(steps * config.data.batch_size * kSyntheticPitches));
    for (auto& cell : frames.frames)
      cell = rng.uniform() < 4.0f / kSyntheticPitches ? 1.0f : 0.0f;
    frames.mask.assign(static_cast<size_t>(steps * config.data.batch_size), 1.0f);
    return frames;
  };
  Batch batch;
  batch.batch_size = config.data.batch_size;
  batch.pitches = kSyntheticPitches;
  if (config.model.type == config::ModelType::lm) {
    batch.inputs = block(config.data.window);
  } else {
    batch.inputs = block(config.data.context_frames);
    batch.targets = block(config.data.target_frames);
  }
  return batch;
}

double training_step_flops(const config::ExperimentConfig& config) {
  constexpr double kPitches = kSyntheticPitches;
  const auto& m = config.model;
  const double b = config.data.batch_size;
  // The matrix products of a stacked layer: 2 G H (I_l + H) per frame, layer and direction.
  const auto recurrent = [](config::Cell cell, double input, double hidden, double layers,
                            double directions, double frames) {
    const double gates = static_cast<double>(gate_blocks(cell));
    double flops = 0.0;
    for (int l = 0; l < static_cast<int>(layers); ++l) {
      const double in = l == 0 ? input : directions * hidden;
      flops += directions * 2.0 * gates * hidden * (in + hidden) * frames;
    }
    return flops;
  };
  const double h = m.hidden_size;
  if (m.type == config::ModelType::lm) {
    const double frames = b * (config.data.window - 1);
    return 3.0 *
           (recurrent(m.cell, kPitches, h, m.layers, 1, frames) + 2.0 * h * kPitches * frames);
  }
  const double he = m.encoder_hidden_size == 0 ? h : m.encoder_hidden_size;
  const double directions = m.bidirectional_encoder ? 2 : 1;
  const double key = directions * he;
  const double context = b * config.data.context_frames;
  const double target = b * config.data.target_frames;
  const bool attention = m.attention != config::AttentionKind::none;
  const bool bahdanau = attention && m.attention_style == config::AttentionStyle::bahdanau;
  const double decoder_input = kPitches + (bahdanau ? key : 0);
  double forward =
      recurrent(config::encoder_cell_of(m), kPitches, he, m.layers, directions, context) +
      recurrent(m.cell, decoder_input, h, m.layers, 1, target) + 2.0 * h * kPitches * target;
  if (attention) {
    forward += 2.0 * 2.0 * config.data.context_frames * key * target;  // scores + context
    forward += 2.0 * (key + h) * h * target;                           // combine
  }
  return 3.0 * forward;
}

}  // namespace cadenza
