#include "nn/recurrent_cells.hpp"

#include "nn/gru.hpp"
#include "nn/lstm.hpp"
#include "nn/rnn.hpp"

namespace cadenza {

std::unique_ptr<Recurrent> make_recurrent(RecurrentCell cell, const RecurrentOptions& options) {
  switch (cell) {
    case RecurrentCell::lstm:
      return std::make_unique<Lstm>(options);
    case RecurrentCell::gru:
      return std::make_unique<Gru>(options);
    case RecurrentCell::rnn_tanh:
    case RecurrentCell::rnn_relu: {
      RnnOptions rnn;
      static_cast<RecurrentOptions&>(rnn) = options;
      rnn.activation = cell == RecurrentCell::rnn_relu ? RnnActivation::relu : RnnActivation::tanh;
      return std::make_unique<Rnn>(rnn);
    }
  }
  return nullptr;
}

std::string_view parameter_group(RecurrentCell cell) {
  switch (cell) {
    case RecurrentCell::lstm:
      return "lstm";
    case RecurrentCell::gru:
      return "gru";
    case RecurrentCell::rnn_tanh:
    case RecurrentCell::rnn_relu:
      break;
  }
  return "rnn";
}

}  // namespace cadenza
