// Stacked GRU on oneDNN's lbr_gru_forward / lbr_gru_backward primitives (linear before reset, the
// GRU PyTorch and cuDNN compute), unidirectional or bidirectional, with dropout on its input,
// between layers and on its output, plus a step-wise mode like the LSTM's (nn/lstm.hpp), in f32
// or bf16 like the LSTM (trap 11).
//
// Layout: sequences are time-major [T, B, C] (oneDNN's tnc). States are [L*D, B, H] in
// PyTorch's order (layer-major, then direction).
//
// Parameters, per layer l (D = 2 when bidirectional, I_0 = input size, I_l = D*H above), in
// PyTorch's layout and gate order r, z, n:
//   "layer{l}/W_ih" [D, 3H, I_l]  = PyTorch weight_ih_l{l} (and _reverse for d = 1)
//   "layer{l}/W_hh" [D, 3H, H]    = PyTorch weight_hh_l{l}
//   "layer{l}/b_ih" [D, 3H]       = PyTorch bias_ih_l{l}
//   "layer{l}/b_hh" [D, 3H]       = PyTorch bias_hh_l{l}
// PyTorch: r = s(W_ir x + b_ir + W_hr h + b_hr), z = s(W_iz x + b_iz + W_hz h + b_hz),
//          n = tanh(W_in x + b_in + r (W_hn h + b_hn)), h' = (1 - z) n + z h.
// oneDNN 2.6 lbr_gru (verified on single-unit cells with one weight or bias set at a time, and
// against PyTorch by tests/nn/torch_crosscheck_test.cpp):
//          u = s(W_u x + U_u h + B_0), r = s(W_r x + U_r h + B_1),
//          o = tanh(W_o x + B_2 + r (U_o h + B_3)), h' = u h + (1 - u) o,
// gates in the order u, r, o, so u = z, r = r, o = n: the reorder to oneDNN swaps PyTorch's
// first two gate blocks (r, z -> z, r) and keeps n. The bias is [D, 4, H], one row more than the
// gates: B_0 = b_iz + b_hz, B_1 = b_ir + b_hr, B_2 = b_in, B_3 = b_hn (the recurrent bias of the
// new gate, inside the reset product, cannot be folded into B_2). Hence b_ih and b_hh are kept
// apart; their r and z parts always receive the same gradient.
// backward() adds into the parameter gradients (see nn/parameter.hpp).
//
// oneDNN 2.6 traps 1 to 7 (docs/onednn.md) are handled in the code the three recurrent layers
// share (nn/recurrent.hpp); no per-sequence lengths (7).
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor.hpp"
#include "nn/parameter.hpp"
#include "nn/precision.hpp"
#include "nn/recurrent.hpp"

namespace cadenza {

using GruOptions = RecurrentOptions;
// What one layer's forward keeps for its backward (h0, hT [D, B, H]; c0, cT stay empty), and
// the whole tape.
using GruLayerTape = RecurrentLayerTape;
using GruTape = RecurrentTape;

// The calls are Recurrent's without cell states: x [T, B, I]; h0 [L*D, B, H] or empty for zeros
// -> y [T, B, D*H]; hT [L*D, B, H]. Parameters per layer: W_ih, W_hh, b_ih, b_hh; the PyTorch
// export and import copy b_ih and b_hh unchanged.
class Gru : public Recurrent {
 public:
  explicit Gru(const GruOptions& options);

 private:
  void create(const Descs& descs, Primitives& p) const override;
  dnnl::rnn_primitive_desc_base create_inference(const Descs& descs) const override;
  void reorder_weights(int64_t layer, dnnl::memory& layer_weights,
                       dnnl::memory& iter_weights) override;
  const Tensor& primitive_bias(int64_t layer) override;
  void add_grads(int64_t layer, const dnnl::memory& diff_weights_layer,
                 const dnnl::memory& diff_weights_iter, const Tensor& diff_bias) override;

  std::vector<Tensor> bias_;                     // [D, 4H] per layer, oneDNN's folded bias
  std::vector<Tensor> swapped_ih_, swapped_hh_;  // [D, 3H, I_l], [D, 3H, H] in oneDNN's order
};

}  // namespace cadenza
