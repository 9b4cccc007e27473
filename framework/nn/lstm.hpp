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
// oneDNN 2.6 traps handled here (docs/onednn.md): explicit zero src_iter/src_iter_c are always
// passed (1); one primitive per layer (2); PyTorch weights are the ldgoi layout, reordered to
// whatever the forward and backward primitives choose (3, 4); diff weights accumulate inside
// the primitive, so they go to a zeroed scratch and are then added to the gradients (5); the
// forward workspace, SRC_LAYER and DST_LAYER are kept on the tape for backward (6). The primitive
// has no per-sequence lengths (7): pad at the END of sequences and mask the loss.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.hpp"
#include "nn/dropout.hpp"
#include "nn/parameter.hpp"
#include "nn/precision.hpp"
#include "nn/primitive_cache.hpp"

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

// What one layer's forward keeps for its backward.
struct LstmLayerTape {
  Tensor input;           // [T, B, I_l] after dropout
  Tensor input_mask;      // dropout mask applied to the input (empty when none)
  Tensor output;          // [T, B, D*H] before dropout
  Tensor h0, c0, hT, cT;  // [D, B, H]
  dnnl::memory input_lp;  // bf16 copies read by the bf16 primitives (bf16 only)
  dnnl::memory output_lp;
  dnnl::memory h0_lp;
  dnnl::memory hT_lp;
  dnnl::memory workspace;
};

struct LstmTape {
  int64_t steps = 0;
  int64_t batch = 0;
  std::vector<LstmLayerTape> layers;
  Tensor output_mask;  // output dropout mask (empty when none)
};

class Lstm {
 public:
  explicit Lstm(const LstmOptions& options);
  ~Lstm();
  Lstm(const Lstm&) = delete;
  Lstm& operator=(const Lstm&) = delete;

  const LstmOptions& options() const { return options_; }
  int64_t directions() const { return options_.bidirectional ? 2 : 1; }
  int64_t output_size() const { return directions() * options_.hidden_size; }
  int64_t state_rows() const { return options_.layers * directions(); }
  std::vector<Parameter*> parameters();

  // PyTorch's default: every weight and bias uniform in [-1/sqrt(H), 1/sqrt(H)).
  void init(uint64_t seed);

  // Dropout masks for one training step come from (seed, rng_tag, step).
  void set_dropout_step(uint64_t seed, uint64_t step);
  void set_training(bool training);

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
  void begin_steps();
  // x_t [B, I]; h_in, c_in [L, B, H] (empty for zeros) -> y_t [B, H]; h_out, c_out [L, B, H].
  void step_forward(const Tensor& x_t, const Tensor& h_in, const Tensor& c_in, Tensor& y_t,
                    Tensor& h_out, Tensor& c_out, LstmTape& tape);
  // diff_y_t [B, H]; diff_h_out, diff_c_out [L, B, H] (empty for zeros) -> diff_x_t [B, I];
  // diff_h_in, diff_c_in [L, B, H].
  void step_backward(const LstmTape& tape, const Tensor& diff_y_t, const Tensor& diff_h_out,
                     const Tensor& diff_c_out, Tensor& diff_x_t, Tensor& diff_h_in,
                     Tensor& diff_c_in);
  void end_step_backward();

  // PyTorch nn.LSTM state_dict entries (weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0,
  // ..._reverse): bias_ih carries b and bias_hh is zero on export; import adds the two.
  std::vector<std::pair<std::string, Tensor>> export_torch() const;
  // Throws InputError naming the missing entry or the expected and found shapes.
  void import_torch(const std::map<std::string, Tensor>& state);

 private:
  struct LayerPrimitives;
  struct LayerState;

  int64_t layer_input_size(int64_t layer) const;
  LayerPrimitives& primitives(int64_t layer, int64_t steps, int64_t batch);
  void forward_layer(int64_t layer, int64_t steps, int64_t batch, LstmLayerTape& lt);
  void backward_layer(int64_t layer, const LstmLayerTape& lt, const Tensor& diff_dst,
                      const Tensor& diff_hT, const Tensor& diff_cT, Tensor& diff_src,
                      Tensor& diff_h0, Tensor& diff_c0);
  void flush_weight_grads();
  void run_layers(const Tensor& x, const Tensor& h0, const Tensor& c0, Tensor& y, Tensor& hT,
                  Tensor& cT, LstmTape& tape, int64_t steps, int64_t batch);
  void backward_layers(const LstmTape& tape, const Tensor& diff_y, const Tensor& diff_hT,
                       const Tensor& diff_cT, Tensor& diff_x, Tensor& diff_h0, Tensor& diff_c0);

  LstmOptions options_;
  std::vector<std::unique_ptr<Parameter>> weights_ih_, weights_hh_, biases_;
  std::vector<std::unique_ptr<LayerState>> layer_states_;
  Dropout input_dropout_, between_dropout_, output_dropout_;
  PrimitiveCache reorders_;
};

}  // namespace cadenza
