// The model variants the model-level tests run over (gradients and sizes in tests/models, step-wise
// generation in tests/generate): one struct, its name in test listings, and its config; the
// variants with other cells than the LSTM, and those with an input embedding, which every one of
// those tests runs too; and the lm variants with lookback inputs, which only token models have.
#pragma once

#include <ostream>
#include <vector>

#include "config/experiment_config.hpp"

namespace cadenza::testing {

struct ModelVariant {
  const char* name;
  config::ModelType type;
  config::AttentionKind attention;
  config::AttentionStyle style;
  int encoder_hidden;
  bool bidirectional;
  config::Cell cell = config::Cell::lstm;
  config::EncoderCell encoder_cell = config::EncoderCell::same;
  int embedding_size = 0;
  int lookback_bar_steps = 0;  // > 0: token data only (models/lookback_inputs.hpp)
};

// Names the variant in test listings (ctest shows the parameter).
inline void PrintTo(const ModelVariant& variant, std::ostream* out) {
  *out << variant.name;
}

// Two layers of `hidden_size` units in the variant's shape.
inline config::ModelConfig variant_config(const ModelVariant& variant, int hidden_size) {
  config::ModelConfig config;
  config.type = variant.type;
  config.attention = variant.attention;
  config.attention_style = variant.style;
  config.layers = 2;
  config.hidden_size = hidden_size;
  config.encoder_hidden_size = variant.encoder_hidden;
  config.bidirectional_encoder = variant.bidirectional;
  config.cell = variant.cell;
  config.encoder_cell = variant.encoder_cell;
  config.embedding_size = variant.embedding_size;
  config.lookback_bar_steps = variant.lookback_bar_steps;
  return config;
}

// LSTM models: the lm, seq2seq with and without a bridge from a bidirectional encoder, and every
// attention score in both styles (the gradient and size tests run these).
inline std::vector<ModelVariant> lstm_variants() {
  using config::AttentionKind;
  using config::ModelType;
  constexpr auto luong = config::AttentionStyle::luong;
  constexpr auto bahdanau = config::AttentionStyle::bahdanau;
  return {
      {"lm", ModelType::lm, AttentionKind::none, luong, 0, false},
      {"seq2seq", ModelType::seq2seq, AttentionKind::none, luong, 0, false},
      {"seq2seq_bridge_bidir", ModelType::seq2seq, AttentionKind::none, luong, 3, true},
      {"luong_dot", ModelType::seq2seq, AttentionKind::dot, luong, 0, false},
      {"luong_general", ModelType::seq2seq, AttentionKind::general, luong, 3, true},
      {"luong_additive", ModelType::seq2seq, AttentionKind::additive, luong, 0, false},
      {"bahdanau_general", ModelType::seq2seq, AttentionKind::general, bahdanau, 0, false},
      {"bahdanau_additive", ModelType::seq2seq, AttentionKind::additive, bahdanau, 3, true},
  };
}

// GRU and plain-RNN models: the lm, seq2seq with and without a bridge, one variant of each
// attention style per cell, and encoders and decoders of different cells (an LSTM decoder after a
// GRU starts from c = 0; an LSTM encoder's c is dropped before a GRU).
inline std::vector<ModelVariant> other_cell_variants() {
  using config::AttentionKind;
  using config::AttentionStyle;
  using config::Cell;
  using config::EncoderCell;
  using config::ModelType;
  constexpr auto lm = ModelType::lm;
  constexpr auto seq2seq = ModelType::seq2seq;
  constexpr auto luong = AttentionStyle::luong;
  constexpr auto bahdanau = AttentionStyle::bahdanau;
  return {
      {"lm_gru", lm, AttentionKind::none, luong, 0, false, Cell::gru},
      {"lm_rnn_tanh", lm, AttentionKind::none, luong, 0, false, Cell::rnn_tanh},
      {"lm_rnn_relu", lm, AttentionKind::none, luong, 0, false, Cell::rnn_relu},
      {"seq2seq_gru", seq2seq, AttentionKind::none, luong, 0, false, Cell::gru},
      {"seq2seq_rnn_tanh_bridge_bidir", seq2seq, AttentionKind::none, luong, 3, true,
       Cell::rnn_tanh},
      {"luong_general_gru_bridge_bidir", seq2seq, AttentionKind::general, luong, 3, true,
       Cell::gru},
      {"luong_dot_rnn_tanh", seq2seq, AttentionKind::dot, luong, 0, false, Cell::rnn_tanh},
      {"bahdanau_additive_gru", seq2seq, AttentionKind::additive, bahdanau, 0, false, Cell::gru},
      {"bahdanau_general_rnn_tanh_bridge", seq2seq, AttentionKind::general, bahdanau, 3, false,
       Cell::rnn_tanh},
      {"gru_encoder_lstm_decoder", seq2seq, AttentionKind::none, luong, 0, false, Cell::lstm,
       EncoderCell::gru},
      {"lstm_encoder_gru_decoder_luong_bridge_bidir", seq2seq, AttentionKind::general, luong, 3,
       true, Cell::gru, EncoderCell::lstm},
      {"lstm_encoder_rnn_relu_decoder_bahdanau", seq2seq, AttentionKind::additive, bahdanau, 0,
       false, Cell::rnn_relu, EncoderCell::lstm},
  };
}

// Models with an input embedding (model.embedding_size): the lm, seq2seq, and one attention
// variant of each style, the embedding narrower and wider than the frames, with LSTM and GRU
// cells and a bidirectional encoder.
inline std::vector<ModelVariant> embedding_variants() {
  using config::AttentionKind;
  using config::Cell;
  using config::EncoderCell;
  using config::ModelType;
  constexpr auto luong = config::AttentionStyle::luong;
  constexpr auto bahdanau = config::AttentionStyle::bahdanau;
  constexpr auto same = EncoderCell::same;
  return {
      {"lm_embedding", ModelType::lm, AttentionKind::none, luong, 0, false, Cell::lstm, same, 3},
      {"lm_gru_embedding", ModelType::lm, AttentionKind::none, luong, 0, false, Cell::gru, same, 9},
      {"seq2seq_embedding", ModelType::seq2seq, AttentionKind::none, luong, 0, false, Cell::lstm,
       same, 3},
      {"luong_general_embedding_bidir", ModelType::seq2seq, AttentionKind::general, luong, 3, true,
       Cell::lstm, same, 9},
      {"bahdanau_additive_embedding_gru", ModelType::seq2seq, AttentionKind::additive, bahdanau, 0,
       false, Cell::gru, same, 3},
  };
}

// Token lms with Magenta's lookback inputs (model.lookback_bar_steps): bars of 2 and 3 steps, so
// that short test sequences reach both lookback distances and wrap the position counter; with and
// without an embedding, LSTM and GRU.
inline std::vector<ModelVariant> lookback_variants() {
  using config::AttentionKind;
  using config::Cell;
  using config::ModelType;
  constexpr auto luong = config::AttentionStyle::luong;
  constexpr auto same = config::EncoderCell::same;
  return {
      {"lm_lookback", ModelType::lm, AttentionKind::none, luong, 0, false, Cell::lstm, same, 0, 2},
      {"lm_gru_lookback_embedding", ModelType::lm, AttentionKind::none, luong, 0, false, Cell::gru,
       same, 4, 3},
  };
}

}  // namespace cadenza::testing
