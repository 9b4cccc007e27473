// The closed-set string keys the typed config holds as enums. The JSON keeps the names (so the
// resolved config, its hash and the run id are the same as for plain strings); `names` lists an
// enum's names once, indexed by value, for the schema (config/schema.hpp), and `name_of` gives
// one value's name for printing.
// To add a value: add it to the enum and its name, at the same position, to `names`.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace cadenza::config {

// model.type
enum class ModelType { lm, seq2seq };
// model.attention
enum class AttentionKind { none, dot, general, additive };
// model.attention_style
enum class AttentionStyle { luong, bahdanau };
// train.nan_guard
enum class NanGuard { stop, rollback };
// model.cell
enum class Cell { lstm, gru, rnn_tanh, rnn_relu };
// model.encoder_cell: `same` is model.cell
enum class EncoderCell { same, lstm, gru, rnn_tanh, rnn_relu };

constexpr std::array<std::string_view, 2> names(ModelType) {
  return {"lm", "seq2seq"};
}
constexpr std::array<std::string_view, 4> names(AttentionKind) {
  return {"none", "dot", "general", "additive"};
}
constexpr std::array<std::string_view, 2> names(AttentionStyle) {
  return {"luong", "bahdanau"};
}
constexpr std::array<std::string_view, 2> names(NanGuard) {
  return {"stop", "rollback"};
}
constexpr std::array<std::string_view, 4> names(Cell) {
  return {"lstm", "gru", "rnn_tanh", "rnn_relu"};
}
constexpr std::array<std::string_view, 5> names(EncoderCell) {
  return {"same", "lstm", "gru", "rnn_tanh", "rnn_relu"};
}

// The name of `value` as the config spells it: name_of(ModelType::seq2seq) == "seq2seq".
template <class E>
requires requires(E e) {
  names(e);
}
constexpr std::string_view name_of(E value) {
  return names(value)[static_cast<size_t>(value)];
}

}  // namespace cadenza::config
