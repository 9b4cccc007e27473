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
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.hpp"
#include "nn/parameter.hpp"
#include "nn/precision.hpp"
#include "nn/recurrent.hpp"

namespace cadenza {

struct GruOptions {
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

// What one layer's forward keeps for its backward (h0, hT [D, B, H]; c0, cT stay empty), and
// the whole tape.
using GruLayerTape = RecurrentLayerTape;
using GruTape = RecurrentTape;

class Gru {
 public:
  explicit Gru(const GruOptions& options);
  ~Gru();
  Gru(const Gru&) = delete;
  Gru& operator=(const Gru&) = delete;

  const GruOptions& options() const { return options_; }
  int64_t directions() const { return options_.bidirectional ? 2 : 1; }
  int64_t output_size() const { return directions() * options_.hidden_size; }
  int64_t state_rows() const { return options_.layers * directions(); }
  // Per layer: W_ih, W_hh, b_ih, b_hh.
  std::vector<Parameter*> parameters();

  // PyTorch's default: every weight and bias uniform in [-1/sqrt(H), 1/sqrt(H)).
  void init(uint64_t seed);

  // Dropout masks for one training step come from (seed, rng_tag, step).
  void set_dropout_step(uint64_t seed, uint64_t step);
  void set_training(bool training);

  // x [T, B, I]; h0 [L*D, B, H] or empty for zeros -> y [T, B, D*H]; hT [L*D, B, H].
  void forward(const Tensor& x, const Tensor& h0, Tensor& y, Tensor& hT, GruTape& tape);
  // diff_y [T, B, D*H]; diff_hT [L*D, B, H] or empty for zeros -> diff_x [T, B, I];
  // diff_h0 [L*D, B, H]. Parameter gradients accumulate.
  void backward(const GruTape& tape, const Tensor& diff_y, const Tensor& diff_hT, Tensor& diff_x,
                Tensor& diff_h0);

  // Step mode (unidirectional only), as Lstm's: begin_steps(), step_forward for t = 0 .. T-1,
  // step_backward for t = T-1 .. 0, end_step_backward(). Bit-identical to forward() on the
  // sequence.
  void begin_steps();
  // x_t [B, I]; h_in [L, B, H] (empty for zeros) -> y_t [B, H]; h_out [L, B, H].
  void step_forward(const Tensor& x_t, const Tensor& h_in, Tensor& y_t, Tensor& h_out,
                    GruTape& tape);
  // diff_y_t [B, H]; diff_h_out [L, B, H] (empty for zeros) -> diff_x_t [B, I]; diff_h_in
  // [L, B, H].
  void step_backward(const GruTape& tape, const Tensor& diff_y_t, const Tensor& diff_h_out,
                     Tensor& diff_x_t, Tensor& diff_h_in);
  void end_step_backward();

  // PyTorch nn.GRU state_dict entries (weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0,
  // ..._reverse), copied both ways unchanged.
  std::vector<std::pair<std::string, Tensor>> export_torch() const;
  // Throws InputError naming the missing entry or the expected and found shapes.
  void import_torch(const std::map<std::string, Tensor>& state);

 private:
  class Cell;  // the shared stack (nn/recurrent.hpp) on lbr_gru_forward / lbr_gru_backward

  GruOptions options_;
  std::unique_ptr<Cell> cell_;
};

}  // namespace cadenza
