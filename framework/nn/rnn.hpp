// Stacked plain (Elman) RNN on oneDNN's vanilla_rnn_forward / vanilla_rnn_backward primitives,
// h' = act(W_ih x + W_hh h + b) with act tanh or relu (PyTorch's nn.RNN nonlinearity),
// unidirectional or bidirectional, with dropout on its input, between layers and on its output,
// plus a step-wise mode like the LSTM's (nn/lstm.hpp), in f32 or bf16 like the LSTM (trap 11).
//
// Layout: sequences are time-major [T, B, C] (oneDNN's tnc). States are [L*D, B, H] in
// PyTorch's order (layer-major, then direction).
//
// Parameters, per layer l (D = 2 when bidirectional, I_0 = input size, I_l = D*H above):
//   "layer{l}/W_ih" [D, H, I_l]  = PyTorch weight_ih_l{l} (and _reverse for d = 1)
//   "layer{l}/W_hh" [D, H, H]    = PyTorch weight_hh_l{l}
//   "layer{l}/b"    [D, H]       = PyTorch bias_ih_l{l} + bias_hh_l{l}
// PyTorch adds two biases; oneDNN has one ({1, D, 1, H}), and only their sum matters, so the layer
// keeps the sum (PyTorch's gradients of bias_ih and bias_hh both equal that of b).
// relu is oneDNN's eltwise_relu with alpha 0 (no leak); tanh is eltwise_tanh.
// backward() adds into the parameter gradients (see nn/parameter.hpp).
//
// oneDNN 2.6 traps 1 to 7 (docs/onednn.md) are handled in the code the three recurrent layers
// share (nn/recurrent.hpp); no per-sequence lengths (7).
#pragma once

#include <cstdint>

#include "core/tensor.hpp"
#include "nn/parameter.hpp"
#include "nn/precision.hpp"
#include "nn/recurrent.hpp"

namespace cadenza {

enum class RnnActivation { tanh, relu };

struct RnnOptions : RecurrentOptions {
  RnnActivation activation = RnnActivation::tanh;
};
// What one layer's forward keeps for its backward (h0, hT [D, B, H]; c0, cT stay empty), and
// the whole tape.
using RnnLayerTape = RecurrentLayerTape;
using RnnTape = RecurrentTape;

// The calls are Recurrent's without cell states: x [T, B, I]; h0 [L*D, B, H] or empty for zeros
// -> y [T, B, D*H]; hT [L*D, B, H]. Parameters per layer: W_ih, W_hh, b; the PyTorch export
// gives b as bias_ih with bias_hh zero, the import adds the two.
class Rnn : public Recurrent {
 public:
  explicit Rnn(const RnnOptions& options);

 private:
  void create(const Descs& descs, Primitives& p) const override;
  dnnl::rnn_primitive_desc_base create_inference(const Descs& descs) const override;

  dnnl::algorithm activation_;  // eltwise_tanh, or eltwise_relu with alpha 0
};

}  // namespace cadenza
