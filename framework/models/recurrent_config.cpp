#include "models/recurrent_config.hpp"

#include <fmt/format.h>

#include "nn/precision.hpp"

namespace cadenza {
namespace {

RecurrentCell recurrent_cell(config::Cell cell) {
  switch (cell) {
    case config::Cell::gru:
      return RecurrentCell::gru;
    case config::Cell::rnn_tanh:
      return RecurrentCell::rnn_tanh;
    case config::Cell::rnn_relu:
      return RecurrentCell::rnn_relu;
    case config::Cell::lstm:
      break;
  }
  return RecurrentCell::lstm;
}

}  // namespace

std::unique_ptr<Recurrent> build_recurrent(const config::ModelConfig& config, config::Cell cell,
                                           int64_t input, int64_t hidden, bool bidirectional,
                                           uint64_t tag) {
  RecurrentOptions options;
  options.input_size = input;
  options.hidden_size = hidden;
  options.layers = config.layers;
  options.bidirectional = bidirectional;
  options.input_dropout = static_cast<float>(config.dropout.input);
  options.between_dropout = static_cast<float>(config.dropout.hidden);
  options.output_dropout = static_cast<float>(config.dropout.output);
  options.precision = parse_precision(config.precision);
  options.rng_tag = tag;
  if (cell == config::Cell::lstm) options.forget_bias = static_cast<float>(config.forget_bias);
  return make_recurrent(recurrent_cell(cell), options);
}

int64_t gate_blocks(config::Cell cell) {
  switch (cell) {
    case config::Cell::lstm:
      return 4;
    case config::Cell::gru:
      return 3;
    case config::Cell::rnn_tanh:
    case config::Cell::rnn_relu:
      break;
  }
  return 1;
}

int64_t recurrent_parameter_count(config::Cell cell, int64_t input, int64_t hidden, int64_t layers,
                                  int64_t directions) {
  const int64_t gates = gate_blocks(cell);
  const int64_t biases = cell == config::Cell::gru ? 2 * gates : gates;
  int64_t count = 0;
  for (int64_t l = 0; l < layers; ++l) {
    const int64_t layer_input = l == 0 ? input : directions * hidden;
    count += directions * (gates * hidden * (layer_input + hidden) + biases * hidden);
  }
  return count;
}

std::string recurrent_prefix(const char* part, config::Cell cell) {
  return fmt::format("{}/{}", part, parameter_group(recurrent_cell(cell)));
}

}  // namespace cadenza
