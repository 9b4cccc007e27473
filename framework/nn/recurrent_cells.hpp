// The recurrent cells a model can be built with, behind Recurrent (nn/recurrent.hpp), so that a
// model serves every cell with one code path: it passes cell states c, which only the LSTM reads
// and writes (has_cell_state()).
//   lstm      nn/lstm.hpp, oneDNN lstm (gates i, f, g, o), one summed bias per layer
//   gru       nn/gru.hpp, oneDNN lbr_gru (PyTorch's and cuDNN's GRU), b_ih and b_hh apart
//   rnn_tanh  nn/rnn.hpp, oneDNN vanilla_rnn with tanh, one summed bias
//   rnn_relu  the same with relu
#pragma once

#include <memory>
#include <string_view>

#include "nn/recurrent.hpp"

namespace cadenza {

enum class RecurrentCell { lstm, gru, rnn_tanh, rnn_relu };

std::unique_ptr<Recurrent> make_recurrent(RecurrentCell cell, const RecurrentOptions& options);

// The name of the cell's parameter group in a model ("lstm", "gru", "rnn"): a model's
// parameters are "decoder/<group>/layer0/W_ih" and so on, so checkpoints of different cells never
// share a name.
std::string_view parameter_group(RecurrentCell cell);

}  // namespace cadenza
