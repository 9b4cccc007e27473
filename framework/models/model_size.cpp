#include "models/model_size.hpp"

#include <algorithm>

#include "models/lookback_inputs.hpp"
#include "models/recurrent_config.hpp"

namespace cadenza {
namespace {

constexpr int64_t kFloat = 4;
constexpr int64_t kFixedBytes = int64_t{256} << 20;
constexpr int64_t kCheckpointOverhead = int64_t{1} << 20;

struct Shape {
  // input: the width the recurrent layers read (the embedding's, or the frame's).
  int64_t pitches, input, embedding_parameters, hidden, layers, encoder, directions, keys;
  bool seq2seq, attention, bahdanau, bridge_c;
  config::Cell cell, encoder_cell;
};

Shape shape_of(const config::ModelConfig& config, int pitches) {
  Shape s{};
  s.pitches = pitches;
  // The lookback inputs widen what the embedding (or the first layer) reads.
  const int64_t frame_width = lookback_width(config.lookback_bar_steps, pitches);
  s.input = config.embedding_size > 0 ? config.embedding_size : frame_width;
  s.embedding_parameters =
      config.embedding_size > 0 ? int64_t{config.embedding_size} * frame_width : 0;
  s.hidden = config.hidden_size;
  s.layers = config.layers;
  s.seq2seq = config.type == config::ModelType::seq2seq;
  s.encoder = config.encoder_hidden_size == 0 ? config.hidden_size : config.encoder_hidden_size;
  s.directions = config.bidirectional_encoder ? 2 : 1;
  s.keys = s.directions * s.encoder;
  s.attention = s.seq2seq && config.attention != config::AttentionKind::none;
  s.bahdanau = s.attention && config.attention_style == config::AttentionStyle::bahdanau;
  s.cell = config.cell;
  s.encoder_cell = config::encoder_cell_of(config);
  s.bridge_c = s.cell == config::Cell::lstm && s.encoder_cell == config::Cell::lstm;
  return s;
}

int64_t optimizer_slots(const config::OptimizerConfig& optimizer) {
  return optimizer.name == "adam" || optimizer.name == "adamw" ? 2 : 1;
}

}  // namespace

int64_t parameter_count(const config::ModelConfig& config, int pitches) {
  const Shape s = shape_of(config, pitches);
  // The output layer's weights and bias, and the embedding's.
  const int64_t ends = s.hidden * s.pitches + s.pitches + s.embedding_parameters;
  if (!s.seq2seq) {
    return recurrent_parameter_count(s.cell, s.input, s.hidden, s.layers, 1) + ends;
  }
  int64_t count =
      recurrent_parameter_count(s.encoder_cell, s.input, s.encoder, s.layers, s.directions);
  if (s.keys != s.hidden) count += (s.bridge_c ? 2 : 1) * (s.keys * s.hidden + s.hidden);
  count +=
      recurrent_parameter_count(s.cell, s.input + (s.bahdanau ? s.keys : 0), s.hidden, s.layers, 1);
  if (s.attention) {
    if (config.attention == config::AttentionKind::general) count += s.keys * s.hidden;
    if (config.attention == config::AttentionKind::additive) {
      count += s.hidden * s.hidden + s.keys * s.hidden + s.hidden;
    }
    count += (s.keys + s.hidden) * s.hidden;
  }
  return count + ends;
}

MemoryEstimate estimate_training_memory(const config::ExperimentConfig& config, int pitches,
                                        const FrameCounts& frames) {
  const Shape s = shape_of(config.model, pitches);
  const int64_t slots = optimizer_slots(config.train.optimizer);
  MemoryEstimate estimate;
  estimate.parameters =
      kFloat * parameter_count(config.model, pitches) * (2 + slots + 2 + 2 * (1 + slots));

  // Floats held for a batch of `batch` samples of `length` frames.
  const auto batch_floats = [&s](int64_t batch, int64_t length) {
    const int64_t units =
        s.seq2seq ? s.layers * (s.directions * s.encoder + s.hidden) : s.layers * s.hidden;
    int64_t floats = 16 * units * batch * length + 4 * s.pitches * batch * length;
    // The embedded frames and their gradients.
    if (s.embedding_parameters > 0) floats += 2 * s.input * batch * length;
    if (s.attention) {
      floats += 3 * batch * length * length + 6 * batch * length * (s.keys + s.hidden);
    }
    return floats;
  };
  const int64_t train_length = std::max<int64_t>(frames.longest_train, 1);
  const int64_t eval_length = std::max<int64_t>(frames.longest_eval, 1);
  estimate.activations = kFloat * std::max(batch_floats(config.data.batch_size, train_length),
                                           batch_floats(config.data.eval_batch_size, eval_length));
  estimate.fixed = frames.dataset_cells + kFixedBytes;
  return estimate;
}

int64_t checkpoint_bytes(const config::ExperimentConfig& config, int pitches) {
  return kFloat * parameter_count(config.model, pitches) *
             (1 + optimizer_slots(config.train.optimizer)) +
         kCheckpointOverhead;
}

}  // namespace cadenza
