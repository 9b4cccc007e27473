// Naive double-precision plain RNN, written from the equation (PyTorch's nn.RNN definition with
// one summed bias), used only by tests as the ground truth for the oneDNN layer, forward and
// backward (hand-written backpropagation through time, itself checked against finite
// differences):
//   h' = act(W_ih x + W_hh h + b), act = tanh or relu.
#pragma once

#include <cstdint>
#include <vector>

namespace cadenza::reference {

enum class Nonlinearity { tanh, relu };

// Weights of one layer in PyTorch layout, directions stacked: w_ih [D, H, I], w_hh [D, H, H],
// b [D, H] (= PyTorch's b_ih + b_hh).
struct RnnLayerWeights {
  std::vector<double> w_ih, w_hh, b;
};

struct RnnResult {
  std::vector<double> y;   // [T, B, D*H]
  std::vector<double> hT;  // [L*D, B, H]
};

struct RnnGradients {
  std::vector<double> dx;               // [T, B, I]
  std::vector<double> dh0;              // [L*D, B, H]
  std::vector<RnnLayerWeights> layers;  // same shapes as the weights
};

// x [T, B, I]; h0 [L*D, B, H] (empty = zeros). Bidirectional layers concatenate the forward and
// the reverse direction's outputs; layer l > 0 reads D*H features.
RnnResult rnn_forward(const std::vector<double>& x, const std::vector<double>& h0,
                      const std::vector<RnnLayerWeights>& layers, Nonlinearity act, int64_t steps,
                      int64_t batch, int64_t input_size, int64_t hidden_size, bool bidirectional);

// The gradients of a loss with d loss / d y = dy [T, B, D*H] and d loss / d hT = dhT [L*D, B, H]
// (empty = zeros), for the same arguments as rnn_forward.
RnnGradients rnn_backward(const std::vector<double>& x, const std::vector<double>& h0,
                          const std::vector<RnnLayerWeights>& layers, Nonlinearity act,
                          const std::vector<double>& dy, const std::vector<double>& dhT,
                          int64_t steps, int64_t batch, int64_t input_size, int64_t hidden_size,
                          bool bidirectional);

}  // namespace cadenza::reference
