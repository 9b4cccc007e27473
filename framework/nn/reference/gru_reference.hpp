// Naive double-precision GRU, written from the equations (PyTorch's nn.GRU definition), used
// only by tests as the ground truth for the oneDNN layer, forward and backward (hand-written
// backpropagation through time, itself checked against finite differences):
//   r = s(W_ir x + b_ir + W_hr h + b_hr), z = s(W_iz x + b_iz + W_hz h + b_hz),
//   n = tanh(W_in x + b_in + r (W_hn h + b_hn)), h' = (1 - z) n + z h.
#pragma once

#include <cstdint>
#include <vector>

namespace cadenza::reference {

// Weights of one layer in PyTorch layout and gate order r, z, n, directions stacked:
// w_ih [D, 3H, I], w_hh [D, 3H, H], b_ih, b_hh [D, 3H].
struct GruLayerWeights {
  std::vector<double> w_ih, w_hh, b_ih, b_hh;
};

struct GruResult {
  std::vector<double> y;   // [T, B, D*H]
  std::vector<double> hT;  // [L*D, B, H]
};

struct GruGradients {
  std::vector<double> dx;               // [T, B, I]
  std::vector<double> dh0;              // [L*D, B, H]
  std::vector<GruLayerWeights> layers;  // same shapes as the weights
};

// x [T, B, I]; h0 [L*D, B, H] (empty = zeros). Bidirectional layers concatenate the forward and
// the reverse direction's outputs; layer l > 0 reads D*H features.
GruResult gru_forward(const std::vector<double>& x, const std::vector<double>& h0,
                      const std::vector<GruLayerWeights>& layers, int64_t steps, int64_t batch,
                      int64_t input_size, int64_t hidden_size, bool bidirectional);

// The gradients of a loss with d loss / d y = dy [T, B, D*H] and d loss / d hT = dhT [L*D, B, H]
// (empty = zeros), for the same arguments as gru_forward.
GruGradients gru_backward(const std::vector<double>& x, const std::vector<double>& h0,
                          const std::vector<GruLayerWeights>& layers, const std::vector<double>& dy,
                          const std::vector<double>& dhT, int64_t steps, int64_t batch,
                          int64_t input_size, int64_t hidden_size, bool bidirectional);

}  // namespace cadenza::reference
