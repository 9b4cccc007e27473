// The recurrent layers of a model from its config: the cell (model.cell, model.encoder_cell) and
// the options every stacked layer of the model shares (layers, dropout, precision).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "config/experiment_config.hpp"
#include "nn/recurrent_cells.hpp"

namespace cadenza {

// A stacked layer of `cell` reading `input` features with `hidden` units per direction, with
// the model's layers, dropout and precision; `tag` keeps its init and dropout streams apart.
std::unique_ptr<Recurrent> build_recurrent(const config::ModelConfig& config, config::Cell cell,
                                           int64_t input, int64_t hidden, bool bidirectional,
                                           uint64_t tag);

// Gate blocks of a cell's weights: 4 (LSTM), 3 (GRU), 1 (plain RNN).
int64_t gate_blocks(config::Cell cell);

// Parameters of a stacked layer of `cell`: per layer and direction G*H*(I_l + H) weights and
// 4H (LSTM: one summed bias), 6H (GRU: b_ih and b_hh) or H (RNN) biases.
int64_t recurrent_parameter_count(config::Cell cell, int64_t input, int64_t hidden, int64_t layers,
                                  int64_t directions);

// The parameter prefix of a part's recurrent layer: "decoder/lstm", "encoder/gru", ...
std::string recurrent_prefix(const char* part, config::Cell cell);

}  // namespace cadenza
