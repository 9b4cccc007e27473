// Naive double-precision LSTM, written from the equations (PyTorch's nn.LSTM definition), used
// only by tests as the ground truth for the oneDNN layer:
//   i = s(W_ii x + b_i + W_hi h), f = s(W_if x + b_f + W_hf h), g = tanh(W_ig x + b_g + W_hg h),
//   o = s(W_io x + b_o + W_ho h), c' = f c + i g, h' = o tanh(c').
#pragma once

#include <cstdint>
#include <vector>

namespace cadenza::reference {

// Weights of one layer in PyTorch layout, directions stacked: w_ih [D, 4H, I], w_hh [D, 4H, H],
// b [D, 4H] (gates i, f, g, o).
struct LstmLayerWeights {
  std::vector<double> w_ih, w_hh, b;
};

struct LstmResult {
  std::vector<double> y;       // [T, B, D*H]
  std::vector<double> hT, cT;  // [L*D, B, H]
};

// x [T, B, I]; h0, c0 [L*D, B, H] (empty = zeros). Bidirectional layers concatenate the
// forward and the reverse direction's outputs; layer l > 0 reads D*H features.
LstmResult lstm_forward(const std::vector<double>& x, const std::vector<double>& h0,
                        const std::vector<double>& c0, const std::vector<LstmLayerWeights>& layers,
                        int64_t steps, int64_t batch, int64_t input_size, int64_t hidden_size,
                        bool bidirectional);

}  // namespace cadenza::reference
