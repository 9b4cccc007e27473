// Stacked LSTM on oneDNN's lstm_forward / lstm_backward primitives, unidirectional or
// bidirectional, with dropout on its input, between layers and on its output, plus a step-wise
// mode (one time step per call on the same weights) for decoders that feed attention back.
//
// Layout: sequences are time-major [T, B, C] (oneDNN's tnc). States are [L*D, B, H] in
// PyTorch's order (layer-major, then direction). Gate order i, f, g, o as in PyTorch.
//
// Parameters, per layer l (D = 2 when bidirectional, I_0 = input size, I_l = D*H above):
//   "layer{l}/W_ih" [D, 4H, I_l]  = PyTorch weight_ih_l{l} (and _reverse for d = 1)
//   "layer{l}/W_hh" [D, 4H, H]    = PyTorch weight_hh_l{l}
//   "layer{l}/b"    [D, 4H]       = PyTorch bias_ih_l{l} + bias_hh_l{l}
// backward() adds into the parameter gradients (see nn/parameter.hpp).
//
// oneDNN 2.6 traps 1 to 7 (docs/onednn.md) are handled in the code the three recurrent layers
// share (nn/recurrent.hpp): explicit zero src_iter and src_iter_c, one primitive per layer,
// weights reordered from ldgoi into the primitives' layouts, diff weights through a zeroed
// scratch, workspace and SRC/DST_LAYER on the tape. No per-sequence lengths (7): pad at the END
// of sequences and mask the loss.
#pragma once

#include <cstdint>

#include "core/tensor.hpp"
#include "nn/parameter.hpp"
#include "nn/precision.hpp"
#include "nn/recurrent.hpp"

namespace cadenza {

struct LstmOptions {
  int64_t input_size = 0;
  int64_t hidden_size = 0;
  int64_t layers = 1;
  bool bidirectional = false;
  float input_dropout = 0.0f;    // on x before the first layer
  float between_dropout = 0.0f;  // on the output of every layer but the last
  float output_dropout = 0.0f;   // on the output of the last layer
  Precision precision = Precision::f32;
  uint64_t rng_tag = 0;  // distinguishes this layer's dropout streams from other layers'
};

// What one layer's forward keeps for its backward (h0, hT, c0, cT [D, B, H]), and the whole tape.
using LstmLayerTape = RecurrentLayerTape;
using LstmTape = RecurrentTape;

class Lstm : protected Recurrent {
 public:
  explicit Lstm(const LstmOptions& options);

  const LstmOptions& options() const { return options_; }
  using Recurrent::directions;
  using Recurrent::output_size;
  using Recurrent::parameters;
  using Recurrent::state_rows;

  // PyTorch's default: every weight and bias uniform in [-1/sqrt(H), 1/sqrt(H)).
  using Recurrent::init;

  // Dropout masks for one training step come from (seed, rng_tag, step).
  using Recurrent::set_dropout_step;
  using Recurrent::set_training;

  // x [T, B, I]; h0, c0 [L*D, B, H] or empty for zeros -> y [T, B, D*H]; hT, cT [L*D, B, H].
  void forward(const Tensor& x, const Tensor& h0, const Tensor& c0, Tensor& y, Tensor& hT,
               Tensor& cT, LstmTape& tape);
  // diff_y [T, B, D*H]; diff_hT, diff_cT [L*D, B, H] or empty for zeros ->
  // diff_x [T, B, I]; diff_h0, diff_c0 [L*D, B, H]. Parameter gradients accumulate.
  void backward(const LstmTape& tape, const Tensor& diff_y, const Tensor& diff_hT,
                const Tensor& diff_cT, Tensor& diff_x, Tensor& diff_h0, Tensor& diff_c0);

  // Step mode (unidirectional only), one T = 1 primitive per layer built once per batch size,
  // bound to each step's buffers with set_data_handle (trap 12):
  //   begin_steps();                       once per sequence, after the weights changed
  //   step_forward(...) for t = 0 .. T-1   each step with its own tape
  //   step_backward(...) for t = T-1 .. 0  training only, in reverse order
  //   end_step_backward();                 adds the accumulated weight gradients to the grads
  // Stepping through a sequence gives bit-identical results to forward() on it.
  using Recurrent::begin_steps;
  // x_t [B, I]; h_in, c_in [L, B, H] (empty for zeros) -> y_t [B, H]; h_out, c_out [L, B, H].
  void step_forward(const Tensor& x_t, const Tensor& h_in, const Tensor& c_in, Tensor& y_t,
                    Tensor& h_out, Tensor& c_out, LstmTape& tape);
  // diff_y_t [B, H]; diff_h_out, diff_c_out [L, B, H] (empty for zeros) -> diff_x_t [B, I];
  // diff_h_in, diff_c_in [L, B, H].
  void step_backward(const LstmTape& tape, const Tensor& diff_y_t, const Tensor& diff_h_out,
                     const Tensor& diff_c_out, Tensor& diff_x_t, Tensor& diff_h_in,
                     Tensor& diff_c_in);
  using Recurrent::end_step_backward;

  // PyTorch nn.LSTM state_dict entries (weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0,
  // ..._reverse): bias_ih carries b and bias_hh is zero on export; import adds the two.
  using Recurrent::export_torch;
  // Throws InputError naming the missing entry or the expected and found shapes.
  using Recurrent::import_torch;

 private:
  void create(const Descs& descs, Primitives& p) const override;

  LstmOptions options_;
};

}  // namespace cadenza
