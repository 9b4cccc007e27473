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

struct RnnOptions {
  int64_t input_size = 0;
  int64_t hidden_size = 0;
  int64_t layers = 1;
  bool bidirectional = false;
  RnnActivation activation = RnnActivation::tanh;
  float input_dropout = 0.0f;    // on x before the first layer
  float between_dropout = 0.0f;  // on the output of every layer but the last
  float output_dropout = 0.0f;   // on the output of the last layer
  Precision precision = Precision::f32;
  uint64_t rng_tag = 0;  // distinguishes this layer's dropout streams from other layers'
};

// What one layer's forward keeps for its backward (h0, hT [D, B, H]; c0, cT stay empty), and
// the whole tape.
using RnnLayerTape = RecurrentLayerTape;
using RnnTape = RecurrentTape;

class Rnn : protected Recurrent {
 public:
  explicit Rnn(const RnnOptions& options);

  const RnnOptions& options() const { return options_; }
  using Recurrent::directions;
  using Recurrent::output_size;
  using Recurrent::state_rows;
  // Per layer: W_ih, W_hh, b.
  using Recurrent::parameters;

  // PyTorch's default: every weight and bias uniform in [-1/sqrt(H), 1/sqrt(H)).
  using Recurrent::init;

  // Dropout masks for one training step come from (seed, rng_tag, step).
  using Recurrent::set_dropout_step;
  using Recurrent::set_training;

  // x [T, B, I]; h0 [L*D, B, H] or empty for zeros -> y [T, B, D*H]; hT [L*D, B, H].
  using Recurrent::forward;
  // diff_y [T, B, D*H]; diff_hT [L*D, B, H] or empty for zeros -> diff_x [T, B, I];
  // diff_h0 [L*D, B, H]. Parameter gradients accumulate.
  using Recurrent::backward;

  // Step mode (unidirectional only), as Lstm's: begin_steps(), step_forward for t = 0 .. T-1,
  // step_backward for t = T-1 .. 0, end_step_backward(). Bit-identical to forward() on the
  // sequence.
  using Recurrent::begin_steps;
  // x_t [B, I]; h_in [L, B, H] (empty for zeros) -> y_t [B, H]; h_out [L, B, H].
  using Recurrent::step_forward;
  // diff_y_t [B, H]; diff_h_out [L, B, H] (empty for zeros) -> diff_x_t [B, I]; diff_h_in
  // [L, B, H].
  using Recurrent::end_step_backward;
  using Recurrent::step_backward;

  // PyTorch nn.RNN state_dict entries (weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0,
  // ..._reverse): bias_ih carries b and bias_hh is zero on export; import adds the two.
  using Recurrent::export_torch;
  // Throws InputError naming the missing entry or the expected and found shapes.
  using Recurrent::import_torch;

 private:
  void create(const Descs& descs, Primitives& p) const override;

  RnnOptions options_;
  dnnl::algorithm activation_;  // eltwise_tanh, or eltwise_relu with alpha 0
};

}  // namespace cadenza
