#include "models/seq2seq.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "core/error.hpp"
#include "models/frames.hpp"
#include "models/recurrent_config.hpp"
#include "nn/precision.hpp"

namespace cadenza {
namespace {

// Initialisation and dropout tags of the parts, distinct so that no two draw the same stream.
constexpr uint64_t kEncoderTag = 1;
constexpr uint64_t kDecoderTag = 3;
constexpr uint64_t kAttentionTag = 5;  // Attention uses 4 * tag + 1 .. 3
constexpr uint64_t kBridgeHTag = 10;
constexpr uint64_t kBridgeCTag = 11;
constexpr uint64_t kCombineTag = 12;
constexpr uint64_t kOutputTag = 13;

// The score function of model.attention; only asked when it is not none.
AttentionScore attention_score(config::AttentionKind kind) {
  if (kind == config::AttentionKind::general) return AttentionScore::general;
  if (kind == config::AttentionKind::additive) return AttentionScore::additive;
  return AttentionScore::dot;
}

int64_t encoder_width(const config::ModelConfig& config) {
  return config.encoder_hidden_size == 0 ? config.hidden_size : config.encoder_hidden_size;
}

// Adds (or copies) `part` [.., B, W] into row `row` of `target` [R, B, W].
void put_row(const Tensor& part, int64_t row, Tensor& target) {
  const int64_t size = part.numel();
  std::memcpy(target.data() + row * size, part.data(), static_cast<size_t>(size) * sizeof(float));
}

void add_into(Tensor& target, const Tensor& addend, int64_t offset = 0) {
  for (int64_t i = 0; i < addend.numel(); ++i)
    target[offset + i] += addend[i];
}

// The directions of each layer of encoder states [L*D, B, He] joined side by side: [L, B, D*He].
void join_directions(const Tensor& states, int64_t layers, int64_t directions, Tensor& joined) {
  const int64_t batch = states.dim(1), he = states.dim(2);
  joined.reset({layers, batch, directions * he});
  for (int64_t l = 0; l < layers; ++l) {
    for (int64_t d = 0; d < directions; ++d) {
      for (int64_t b = 0; b < batch; ++b) {
        std::memcpy(joined.data() + (l * batch + b) * directions * he + d * he,
                    states.data() + ((l * directions + d) * batch + b) * he,
                    static_cast<size_t>(he) * sizeof(float));
      }
    }
  }
}

// The inverse: joined [L, B, D*He] -> states [L*D, B, He].
void split_directions(const Tensor& joined, int64_t directions, Tensor& states) {
  const int64_t layers = joined.dim(0), batch = joined.dim(1), he = joined.dim(2) / directions;
  states.reset({layers * directions, batch, he});
  for (int64_t l = 0; l < layers; ++l) {
    for (int64_t d = 0; d < directions; ++d) {
      for (int64_t b = 0; b < batch; ++b) {
        std::memcpy(states.data() + ((l * directions + d) * batch + b) * he,
                    joined.data() + (l * batch + b) * directions * he + d * he,
                    static_cast<size_t>(he) * sizeof(float));
      }
    }
  }
}

}  // namespace

Seq2SeqModel::Seq2SeqModel(const config::ModelConfig& config, int pitches, FrameOutput output,
                           int context_frames, int target_frames)
    : pitches_(pitches),
      context_frames_(context_frames),
      target_frames_(target_frames),
      style_(config.attention == config::AttentionKind::none              ? Style::none
             : config.attention_style == config::AttentionStyle::bahdanau ? Style::bahdanau
                                                                          : Style::luong),
      layers_(config.layers),
      encoder_hidden_(encoder_width(config)),
      decoder_hidden_(config.hidden_size),
      directions_(config.bidirectional_encoder ? 2 : 1),
      embedding_(config.embedding_size, pitches, parse_precision(config.precision)),
      encoder_(build_recurrent(config, config::encoder_cell_of(config),
                               static_cast<int>(embedding_.width()), encoder_width(config),
                               config.bidirectional_encoder, kEncoderTag)),
      decoder_(
          build_recurrent(config, config.cell,
                          static_cast<int>(embedding_.width()) +
                              (config.attention != config::AttentionKind::none &&
                                       config.attention_style == config::AttentionStyle::bahdanau
                                   ? (config.bidirectional_encoder ? 2 : 1) * encoder_width(config)
                                   : 0),
                          config.hidden_size, false, kDecoderTag)),
      encoder_prefix_(recurrent_prefix("encoder", config::encoder_cell_of(config))),
      decoder_prefix_(recurrent_prefix("decoder", config.cell)),
      bridge_c_state_(encoder_->has_cell_state() && decoder_->has_cell_state()),
      output_(config.hidden_size, pitches, true, parse_precision(config.precision)),
      sampling_(config.scheduled_sampling, output),
      loss_(output) {
  if (config.lookback_bar_steps > 0) {
    throw ConfigError(fmt::format(
        "model.lookback_bar_steps = {} works with model.type = \"lm\" only (Magenta's lookback "
        "RNN is a language model); set it to 0 for a seq2seq model",
        config.lookback_bar_steps));
  }
  const Precision precision = parse_precision(config.precision);
  const int64_t key_size = directions_ * encoder_hidden_;
  if (key_size != decoder_hidden_) {
    bridge_h_ = std::make_unique<Linear>(key_size, decoder_hidden_, true, precision);
    if (bridge_c_state_) {
      bridge_c_ = std::make_unique<Linear>(key_size, decoder_hidden_, true, precision);
    }
  }
  if (style_ != Style::none) {
    AttentionOptions options;
    options.score = attention_score(config.attention);
    options.query_size = decoder_hidden_;
    options.key_size = key_size;
    options.additive_size = decoder_hidden_;
    if (options.score == AttentionScore::dot && key_size != decoder_hidden_) {
      throw ConfigError(fmt::format(
          "model.attention = \"dot\" needs encoder states as wide as decoder states, but the "
          "encoder gives {} ({} x {}) and model.hidden_size = {}; use \"general\" or "
          "\"additive\", or match the sizes",
          key_size, directions_, encoder_hidden_, decoder_hidden_));
    }
    attention_ = std::make_unique<Attention>(options);
    combine_ = std::make_unique<AttentionCombine>(key_size, decoder_hidden_, decoder_hidden_);
  }
}

std::vector<NamedParameter> Seq2SeqModel::parameters() {
  std::vector<NamedParameter> named = with_prefix("embedding", embedding_.parameters());
  const auto append = [&named](std::string_view prefix, const std::vector<Parameter*>& params) {
    for (auto& p : with_prefix(prefix, params))
      named.push_back(p);
  };
  append(encoder_prefix_, encoder_->parameters());
  if (bridge_h_) append("bridge/h", bridge_h_->parameters());
  if (bridge_c_) append("bridge/c", bridge_c_->parameters());
  append(decoder_prefix_, decoder_->parameters());
  if (attention_) {
    append("decoder/attention", attention_->parameters());
    append("decoder/combine", combine_->parameters());
  }
  append("decoder/output", output_.parameters());
  return named;
}

void Seq2SeqModel::init(uint64_t seed) {
  encoder_->init(seed);
  decoder_->init(seed);
  if (bridge_h_) bridge_h_->init(seed, kBridgeHTag);
  if (bridge_c_) bridge_c_->init(seed, kBridgeCTag);
  if (attention_) {
    attention_->init(seed, kAttentionTag);
    combine_->init(seed, kCombineTag);
  }
  output_.init(seed, kOutputTag);
  embedding_.init(seed);
}

void Seq2SeqModel::set_training(bool training) {
  encoder_->set_training(training);
  decoder_->set_training(training);
}

void Seq2SeqModel::set_training_step(uint64_t seed, uint64_t step) {
  encoder_->set_dropout_step(seed, step);
  decoder_->set_dropout_step(seed, step);
  sampling_.set_step(seed, step);
}

// enc_h, enc_c [L*D, B, He] (enc_c empty unless the encoder is an LSTM) -> decoder_h0_,
// decoder_c0_ [L, B, Hd]. Without a bridge the states pass through; with one, the directions of
// each layer are joined to [L, B, D*He] and h0 = tanh(W_h joined_h + b_h), c0 = W_c joined_c +
// b_c. The cell state c goes across only from an LSTM to an LSTM: an LSTM decoder after another
// cell starts from c0 = 0 (decoder_c0_ empty), and an LSTM encoder's c is dropped before another
// cell.
void Seq2SeqModel::bridge_forward(const Tensor& enc_h, const Tensor& enc_c) {
  if (!bridge_c_state_) decoder_c0_ = Tensor();
  if (!bridge_h_) {
    decoder_h0_ = enc_h;
    if (bridge_c_state_) decoder_c0_ = enc_c;
    return;
  }
  join_directions(enc_h, layers_, directions_, joined_h_);
  bridge_h_->forward(joined_h_, bridged_h_pre_);
  bridge_tanh_.forward(bridged_h_pre_, decoder_h0_);
  if (bridge_c_) {
    join_directions(enc_c, layers_, directions_, joined_c_);
    bridge_c_->forward(joined_c_, decoder_c0_);
  }
}

// diff_h0, diff_c0 [L, B, Hd] -> diff_encoder_h_, diff_encoder_c_ [L*D, B, He] (diff_encoder_c_
// empty, i.e. zero, unless c crossed the bridge).
void Seq2SeqModel::bridge_backward(const Tensor& diff_h0, const Tensor& diff_c0) {
  if (!bridge_c_state_) diff_encoder_c_ = Tensor();
  if (!bridge_h_) {
    diff_encoder_h_ = diff_h0;
    if (bridge_c_state_) diff_encoder_c_ = diff_c0;
    return;
  }
  Tensor diff_pre, diff_joined;
  bridge_tanh_.backward(decoder_h0_, diff_h0, diff_pre);
  bridge_h_->backward(joined_h_, diff_pre, diff_joined);
  split_directions(diff_joined, directions_, diff_encoder_h_);
  if (bridge_c_) {
    bridge_c_->backward(joined_c_, diff_c0, diff_joined);
    split_directions(diff_joined, directions_, diff_encoder_c_);
  }
}

// decoder_inputs [Tt, B, E] (embedded frames) -> combined_ [Tt, B, Hd] =
// tanh(W_c [attend(h_t); h_t]).
void Seq2SeqModel::decode_luong(const Tensor& decoder_inputs) {
  decoder_->forward(decoder_inputs, decoder_h0_, decoder_c0_, decoder_out_, decoder_h_, decoder_c_,
                    decoder_tape_);
  attention_->attend(decoder_out_, keys_, context_, weights_, attention_tape_);
  combine_->forward(context_, decoder_out_, combined_, combine_tape_);
}

// diff_combined [Tt, B, Hd] -> diff_h0_, diff_c0_ [L, B, Hd], diff_keys_ [Tc, B, Hk].
void Seq2SeqModel::backward_luong(const Tensor& diff_combined) {
  combine_->backward(combine_tape_, diff_combined, diff_context_, diff_decoder_out_);
  attention_->attend_backward(attention_tape_, keys_, diff_context_, diff_queries_);
  add_into(diff_decoder_out_, diff_queries_);
  const Tensor none;
  decoder_->backward(decoder_tape_, diff_decoder_out_, none, none, diff_inputs_, diff_h0_,
                     diff_c0_);
  attention_->keys_backward(keys_, diff_keys_);
}

// decoder_inputs [Tt, B, E] (embedded frames) -> combined_ [Tt, B, Hd], step by step: the
// previous top decoder state attends, [x_t; c_t] enters the decoder cell, tanh(W_c [c_t; h_t]) is
// the output feature.
void Seq2SeqModel::decode_bahdanau(const Tensor& decoder_inputs) {
  const int64_t steps = decoder_inputs.dim(0);
  const int64_t batch = decoder_inputs.dim(1);
  const int64_t width = embedding_.width();
  const int64_t key_size = directions_ * encoder_hidden_;
  steps_.resize(static_cast<size_t>(steps));
  combined_.reset({steps, batch, decoder_hidden_});
  decoder_->begin_steps();
  const Tensor* h = &decoder_h0_;
  const Tensor* c = &decoder_c0_;
  Tensor output_row, combined_row;
  for (int64_t t = 0; t < steps; ++t) {
    Step& step = steps_[static_cast<size_t>(t)];
    copy_rows(*h, layers_ - 1, layers_, step.query);
    attention_->attend(step.query, keys_, step.context, step.weights, step.attention);
    step.input.reset({batch, width + key_size});
    for (int64_t b = 0; b < batch; ++b) {
      float* row = step.input.data() + b * (width + key_size);
      std::memcpy(row, decoder_inputs.data() + (t * batch + b) * width,
                  static_cast<size_t>(width) * sizeof(float));
      std::memcpy(row + width, step.context.data() + b * key_size,
                  static_cast<size_t>(key_size) * sizeof(float));
    }
    decoder_->step_forward(step.input, *h, *c, step.output, step.h, step.c, step.recurrent);
    output_row.reset({1, batch, decoder_hidden_});
    std::memcpy(output_row.data(), step.output.data(),
                static_cast<size_t>(step.output.numel()) * sizeof(float));
    combine_->forward(step.context, output_row, combined_row, step.combine);
    put_row(combined_row, t, combined_);
    h = &step.h;
    c = &step.c;
  }
}

// diff_combined [Tt, B, Hd] -> diff_h0_, diff_c0_ [L, B, Hd], diff_keys_ [Tc, B, Hk] and
// diff_inputs_ [Tt, B, E] (the decoder inputs' share of each step's input gradient).
void Seq2SeqModel::backward_bahdanau(const Tensor& diff_combined) {
  const int64_t steps = diff_combined.dim(0);
  const int64_t batch = diff_combined.dim(1);
  const int64_t key_size = directions_ * encoder_hidden_;
  const int64_t width = embedding_.width();
  diff_inputs_.reset({steps, batch, width});
  Tensor carry_h({layers_, batch, decoder_hidden_});
  Tensor carry_c({layers_, batch, decoder_hidden_});
  Tensor diff_row, diff_context, diff_output, diff_y, diff_input, diff_h_in, diff_c_in, diff_query;
  for (int64_t t = steps - 1; t >= 0; --t) {
    const Step& step = steps_[static_cast<size_t>(t)];
    copy_rows(diff_combined, t, t + 1, diff_row);
    combine_->backward(step.combine, diff_row, diff_context, diff_output);
    diff_y.reset({batch, decoder_hidden_});
    std::memcpy(diff_y.data(), diff_output.data(),
                static_cast<size_t>(diff_y.numel()) * sizeof(float));
    decoder_->step_backward(step.recurrent, diff_y, carry_h, carry_c, diff_input, diff_h_in,
                            diff_c_in);
    for (int64_t b = 0; b < batch; ++b) {
      const float* row = diff_input.data() + b * (width + key_size);
      std::memcpy(diff_inputs_.data() + (t * batch + b) * width, row,
                  static_cast<size_t>(width) * sizeof(float));
      float* to = diff_context.data() + b * key_size;
      for (int64_t k = 0; k < key_size; ++k)
        to[k] += row[width + k];
    }
    attention_->attend_backward(step.attention, keys_, diff_context, diff_query);
    add_into(diff_h_in, diff_query, (layers_ - 1) * batch * decoder_hidden_);
    carry_h = diff_h_in;
    carry_c = diff_c_in;
  }
  decoder_->end_step_backward();
  diff_h0_ = carry_h;
  diff_c0_ = carry_c;
  attention_->keys_backward(keys_, diff_keys_);
}

LossValue Seq2SeqModel::run(const Tensor& context, const Tensor& decoder_inputs,
                            const Tensor& targets, const Tensor& target_mask, bool train,
                            const ScoreSink& sink, float grad_scale) {
  const Tensor none;
  const int64_t batch = context.dim(1);
  const Tensor& encoder_in = embedding_.forward(context, encoder_embedded_);
  const Tensor& decoder_in = embedding_.forward(decoder_inputs, decoder_embedded_);
  encoder_->forward(encoder_in, none, none, encoder_out_, encoder_h_, encoder_c_, encoder_tape_);
  bridge_forward(encoder_h_, encoder_c_);
  if (attention_) {
    key_mask_.reset({batch, context.dim(0)});
    key_mask_.fill(1.0f);
    attention_->prepare_keys(encoder_out_, key_mask_, keys_);
  }
  switch (style_) {
    case Style::none:
      decoder_->forward(decoder_in, decoder_h0_, decoder_c0_, decoder_out_, decoder_h_, decoder_c_,
                        decoder_tape_);
      break;
    case Style::luong:
      decode_luong(decoder_in);
      break;
    case Style::bahdanau:
      decode_bahdanau(decoder_in);
      break;
  }
  const Tensor& features = style_ == Style::none ? decoder_out_ : combined_;
  output_.forward(features, logits_);
  const LossValue loss = loss_.compute(logits_, targets, target_mask, diff_logits_, grad_scale);
  if (sink) sink(logits_, targets, target_mask);
  if (!train) return loss;

  output_.backward(features, diff_logits_, diff_combined_);
  switch (style_) {
    case Style::none:
      decoder_->backward(decoder_tape_, diff_combined_, none, none, diff_inputs_, diff_h0_,
                         diff_c0_);
      break;
    case Style::luong:
      backward_luong(diff_combined_);
      break;
    case Style::bahdanau:
      backward_bahdanau(diff_combined_);
      break;
  }
  bridge_backward(diff_h0_, diff_c0_);
  // Without attention the encoder outputs reach the loss only through the final states.
  if (!attention_) diff_keys_.reset(encoder_out_.dims());
  encoder_->backward(encoder_tape_, diff_keys_, diff_encoder_h_, diff_encoder_c_, diff_encoder_in_,
                     diff_enc_h0_, diff_enc_c0_);
  embedding_.backward(decoder_inputs, diff_inputs_);
  embedding_.backward(context, diff_encoder_in_);
  return loss;
}

int64_t Seq2SeqModel::scored_frames(const Batch& batch) const {
  return count_scored(batch.targets, batch.batch_size, 0);
}

LossValue Seq2SeqModel::train_batch(const Batch& batch, const ScoreSink& sink,
                                    int64_t loss_frames) {
  const int b = batch.batch_size;
  const int64_t context_steps = batch.inputs.steps;
  const int64_t target_steps = batch.targets.steps;
  copy_frames(batch.inputs, b, batch.pitches, 0, context_steps, frames_a_);
  copy_frames(batch.targets, b, batch.pitches, 0, target_steps, frames_c_);
  copy_mask(batch.targets, b, 0, target_steps, mask_);
  // Decoder inputs: the last context frame, then the targets shifted by one (teacher forcing).
  frames_b_.reset({target_steps, b, batch.pitches});
  const int64_t row = int64_t{b} * batch.pitches;
  std::memcpy(frames_b_.data(), frames_a_.data() + (context_steps - 1) * row,
              static_cast<size_t>(row) * sizeof(float));
  std::memcpy(frames_b_.data() + row, frames_c_.data(),
              static_cast<size_t>((target_steps - 1) * row) * sizeof(float));
  if (sampling_.active()) {
    run(frames_a_, frames_b_, frames_c_, mask_, false, {}, 0.0f);
    sampling_.feed_back(logits_, frames_b_);
  }
  return run(frames_a_, frames_b_, frames_c_, mask_, true, sink, mean_scale(loss_frames));
}

void Seq2SeqModel::evaluate(const SplitRolls& split, int batch_size, const ScoreSink& sink) {
  // Segments (sequence, first target frame) grouped by the length of their context.
  std::map<int64_t, std::vector<std::pair<int64_t, int64_t>>> groups;
  for (int64_t s = 0; s < split.sequences(); ++s) {
    for (int64_t start = 1; start < split.length(s); start += target_frames_) {
      groups[std::min<int64_t>(context_frames_, start)].emplace_back(s, start);
    }
  }
  Tensor context, decoder_inputs, targets, context_mask, input_mask, target_mask;
  for (const auto& [context_steps, segments] : groups) {
    for (size_t first = 0; first < segments.size(); first += static_cast<size_t>(batch_size)) {
      const int64_t count =
          static_cast<int64_t>(std::min(segments.size() - first, static_cast<size_t>(batch_size)));
      context.reset({context_steps, count, pitches_});
      context_mask.reset({context_steps, count});
      decoder_inputs.reset({target_frames_, count, pitches_});
      input_mask.reset({target_frames_, count});
      targets.reset({target_frames_, count, pitches_});
      target_mask.reset({target_frames_, count});
      for (int64_t b = 0; b < count; ++b) {
        const auto [sequence, start] = segments[first + static_cast<size_t>(b)];
        gather_sequence(split, sequence, start - context_steps, context_steps, b, context,
                        context_mask);
        gather_sequence(split, sequence, start - 1, target_frames_, b, decoder_inputs, input_mask);
        gather_sequence(split, sequence, start, target_frames_, b, targets, target_mask);
      }
      run(context, decoder_inputs, targets, target_mask, false, sink, 0.0f);
    }
  }
}

}  // namespace cadenza
