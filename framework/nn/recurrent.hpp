// What the stacked recurrent layers (nn/lstm.hpp, nn/gru.hpp, nn/rnn.hpp) share, on oneDNN's RNN
// primitives: the parameters, the per-(T, B) primitive cache, the weights in the primitives'
// layouts, the layer loop with dropout on the input, between layers and on the output, the
// step-wise mode (T = 1 primitives bound with set_data_handle, trap 12), the bf16 copies (trap
// 11) and the PyTorch state_dict export and import. Lstm, Gru and Rnn derive from Recurrent and
// supply their primitives and, where oneDNN's gate order or bias differs from PyTorch's, the
// weight and bias transforms. Callers that serve every cell (the models) hold a Recurrent made by
// make_recurrent (nn/recurrent_cells.hpp) and pass cell states c that only the LSTM reads.
//
// Layout: sequences are time-major [T, B, C] (oneDNN's tnc). States are [L*D, B, H] in
// PyTorch's order (layer-major, then direction). Per layer l (D = 2 when bidirectional, I_0 =
// input size, I_l = D*H above, G gate blocks): "layer{l}/W_ih" [D, G*H, I_l], "layer{l}/W_hh"
// [D, G*H, H], and either one summed bias "layer{l}/b" [D, G*H] or PyTorch's two, "layer{l}/b_ih"
// and "layer{l}/b_hh" [D, G*H].
//
// oneDNN 2.6 traps handled here (docs/onednn.md): explicit zero src_iter (and src_iter_c) are
// always passed (1); one primitive per layer (2); PyTorch weights are the ldgoi layout, reordered
// to whatever the forward and backward primitives choose (3, 4); diff weights accumulate inside
// the primitive, so they go to a zeroed scratch and are then added to the gradients (5); the
// forward workspace, SRC_LAYER and DST_LAYER are kept on the tape for backward (6). The
// primitives have no per-sequence lengths (7): pad at the END of sequences and mask the loss.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/tensor.hpp"
#include "nn/dropout.hpp"
#include "nn/parameter.hpp"
#include "nn/precision.hpp"
#include "nn/primitive_cache.hpp"

namespace cadenza {

// What one layer's forward keeps for its backward.
struct RecurrentLayerTape {
  Tensor input;           // [T, B, I_l] after dropout
  Tensor input_mask;      // dropout mask applied to the input (empty when none)
  Tensor output;          // [T, B, D*H] before dropout
  Tensor h0, hT;          // [D, B, H]
  Tensor c0, cT;          // [D, B, H], the LSTM's cell state (empty for the other cells)
  dnnl::memory input_lp;  // bf16 copies read by the bf16 primitives (bf16 only)
  dnnl::memory output_lp;
  dnnl::memory h0_lp;
  dnnl::memory hT_lp;
  dnnl::memory workspace;
};

struct RecurrentTape {
  int64_t steps = 0;
  int64_t batch = 0;
  // Recorded outside training (set_training(false)): by the inference primitives, which keep no
  // workspace, so there is no backward through it.
  bool inference = false;
  std::vector<RecurrentLayerTape> layers;
  Tensor output_mask;  // output dropout mask (empty when none)
};

// The shape, dropout and precision of a stacked recurrent layer, whatever its cell.
struct RecurrentOptions {
  int64_t input_size = 0;
  int64_t hidden_size = 0;
  int64_t layers = 1;
  bool bidirectional = false;
  float input_dropout = 0.0f;    // on x before the first layer
  float between_dropout = 0.0f;  // on the output of every layer but the last
  float output_dropout = 0.0f;   // on the output of the last layer
  Precision precision = Precision::f32;
  uint64_t rng_tag = 0;  // distinguishes this layer's dropout streams from other layers'
  // LSTM only: the forget gate's (summed) bias starts at this value; 0 keeps the uniform init.
  float forget_bias = 0.0f;
};

// What the shared code needs to know of a cell, and the layer's options.
struct RecurrentSpec {
  const char* name = "";        // the class, in error messages: "Lstm"
  const char* torch_name = "";  // the PyTorch module, in error messages: "LSTM"
  int64_t gates = 1;            // gate blocks of the weights (G)
  int64_t bias_rows = 1;        // rows of oneDNN's bias [D, bias_rows, H]
  bool cell_state = false;      // a cell state c next to h (LSTM)
  bool split_bias = false;      // PyTorch's b_ih and b_hh kept apart, else their sum b
  int64_t forget_gate = -1;     // the forget gate's block of the bias (LSTM: 1), else -1
  uint64_t init_tag = 0;        // the init stream, distinct per cell
  RecurrentOptions options;
};

class Recurrent {
 public:
  // The memory descriptors of one layer's primitives for one (T, B) (weights as tag::any).
  struct Descs {
    dnnl::rnn_direction direction;
    dnnl::memory::desc src, src_iter, src_iter_c, weights_layer, weights_iter, bias, dst;
    dnnl::memory::desc diff_src, diff_iter, diff_weights_layer, diff_weights_iter, diff_dst;
  };
  // Primitives and their argument memories for one layer and one (T, B). The memories are bound
  // to each call's buffers with set_data_handle, so a cached shape creates nothing per call.
  struct Primitives {
    int64_t steps = 0;
    int64_t batch = 0;
    dnnl::rnn_primitive_desc_base fwd_pd;
    dnnl::primitive fwd;
    dnnl::rnn_primitive_desc_base bwd_pd;
    dnnl::primitive bwd;
    std::unordered_map<int, dnnl::memory> fwd_args;
    std::unordered_map<int, dnnl::memory> bwd_args;
    // forward_inference on the forward's weight layouts, made the first time the shape is run
    // outside training: no workspace, so evaluating long sequences needs a fraction of the memory.
    Descs descs;
    dnnl::rnn_primitive_desc_base inf_pd;
    dnnl::primitive inf;
    std::unordered_map<int, dnnl::memory> inf_args;
  };

  explicit Recurrent(const RecurrentSpec& spec);
  virtual ~Recurrent();
  Recurrent(const Recurrent&) = delete;
  Recurrent& operator=(const Recurrent&) = delete;

  const RecurrentOptions& options() const { return spec_.options; }
  // Whether the cell keeps a state c next to h (the LSTM). The other cells ignore c inputs and
  // leave c outputs untouched.
  bool has_cell_state() const { return spec_.cell_state; }
  int64_t directions() const { return spec_.options.bidirectional ? 2 : 1; }
  int64_t output_size() const { return directions() * spec_.options.hidden_size; }
  int64_t state_rows() const { return spec_.options.layers * directions(); }
  // Per layer: W_ih, W_hh, then b or b_ih, b_hh.
  std::vector<Parameter*> parameters();
  // PyTorch's default: every weight and bias uniform in [-1/sqrt(H), 1/sqrt(H)).
  void init(uint64_t seed);
  // Dropout masks for one training step come from (seed, rng_tag, step).
  void set_dropout_step(uint64_t seed, uint64_t step);
  void set_training(bool training);

  // x [T, B, I]; h0, c0 [L*D, B, H] or empty for zeros -> y [T, B, D*H]; hT, cT [L*D, B, H].
  void forward(const Tensor& x, const Tensor& h0, const Tensor& c0, Tensor& y, Tensor& hT,
               Tensor& cT, RecurrentTape& tape);
  // diff_y [T, B, D*H]; diff_hT, diff_cT [L*D, B, H] or empty for zeros ->
  // diff_x [T, B, I]; diff_h0, diff_c0 [L*D, B, H]. Parameter gradients accumulate.
  void backward(const RecurrentTape& tape, const Tensor& diff_y, const Tensor& diff_hT,
                const Tensor& diff_cT, Tensor& diff_x, Tensor& diff_h0, Tensor& diff_c0);
  // The same without cell states (for Gru and Rnn, or an LSTM started from c = 0 whose cT is
  // not needed): x [T, B, I]; h0 [L*D, B, H] or empty -> y [T, B, D*H]; hT [L*D, B, H].
  void forward(const Tensor& x, const Tensor& h0, Tensor& y, Tensor& hT, RecurrentTape& tape);
  // diff_y [T, B, D*H]; diff_hT [L*D, B, H] or empty -> diff_x [T, B, I]; diff_h0 [L*D, B, H].
  void backward(const RecurrentTape& tape, const Tensor& diff_y, const Tensor& diff_hT,
                Tensor& diff_x, Tensor& diff_h0);

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
                    Tensor& h_out, Tensor& c_out, RecurrentTape& tape);
  // diff_y_t [B, H]; diff_h_out, diff_c_out [L, B, H] (empty for zeros) -> diff_x_t [B, I];
  // diff_h_in, diff_c_in [L, B, H].
  void step_backward(const RecurrentTape& tape, const Tensor& diff_y_t, const Tensor& diff_h_out,
                     const Tensor& diff_c_out, Tensor& diff_x_t, Tensor& diff_h_in,
                     Tensor& diff_c_in);
  // Without cell states: x_t [B, I]; h_in [L, B, H] (empty for zeros) -> y_t [B, H]; h_out
  // [L, B, H], and diff_y_t [B, H]; diff_h_out [L, B, H] -> diff_x_t [B, I]; diff_h_in [L, B, H].
  void step_forward(const Tensor& x_t, const Tensor& h_in, Tensor& y_t, Tensor& h_out,
                    RecurrentTape& tape);
  void step_backward(const RecurrentTape& tape, const Tensor& diff_y_t, const Tensor& diff_h_out,
                     Tensor& diff_x_t, Tensor& diff_h_in);
  void end_step_backward();

  // PyTorch state_dict entries weight_ih_l{l}, weight_hh_l{l}, bias_ih_l{l}, bias_hh_l{l}
  // (_reverse for d = 1). A summed b goes out as bias_ih with bias_hh zero and comes in as their
  // sum; split biases are copied both ways unchanged.
  std::vector<std::pair<std::string, Tensor>> export_torch() const;
  // Throws InputError naming the missing entry or the expected and found shapes.
  void import_torch(const std::map<std::string, Tensor>& state);

 protected:
  int64_t layer_input_size(int64_t layer) const;
  // Creates p's forward_training and backward primitives (with user_scratchpad_attr()) on descs.
  virtual void create(const Descs& descs, Primitives& p) const = 0;
  // The forward_inference primitive descriptor (with user_scratchpad_attr()) on descs, whose
  // weights are the forward_training primitive's.
  virtual dnnl::rnn_primitive_desc_base create_inference(const Descs& descs) const = 0;
  // The layer's W_ih, W_hh (PyTorch's [D, G*H, K]) into layer_weights, iter_weights (in whatever
  // layout their descriptors have). By default one ldgoi reorder each.
  virtual void reorder_weights(int64_t layer, dnnl::memory& layer_weights,
                               dnnl::memory& iter_weights);
  // The bias [D, bias_rows*H] the layer's primitives read, brought up to date with the forward
  // weights. By default b itself.
  virtual const Tensor& primitive_bias(int64_t layer);
  // Adds the layer's diff-weight scratch (the backward primitive's layouts) and diff bias
  // [D, bias_rows*H] into the parameter gradients. By default reorders each into W_ih, W_hh, b.
  virtual void add_grads(int64_t layer, const dnnl::memory& diff_weights_layer,
                         const dnnl::memory& diff_weights_iter, const Tensor& diff_bias);

  RecurrentSpec spec_;
  std::vector<std::unique_ptr<Parameter>> weights_ih_, weights_hh_;
  std::vector<std::unique_ptr<Parameter>> biases_;     // b, or b_ih with split biases
  std::vector<std::unique_ptr<Parameter>> biases_hh_;  // b_hh with split biases, else empty
  PrimitiveCache reorders_;

 private:
  struct LayerState;

  Primitives& primitives(int64_t layer, int64_t steps, int64_t batch);
  // p's inference primitive and its argument memories, made on first use.
  void ensure_inference(Primitives& p);
  void forward_layer(int64_t layer, int64_t steps, int64_t batch, bool inference,
                     RecurrentLayerTape& lt);
  void backward_layer(int64_t layer, const RecurrentLayerTape& lt, const Tensor& diff_dst,
                      const Tensor& diff_hT, const Tensor& diff_cT, Tensor& diff_src,
                      Tensor& diff_h0, Tensor& diff_c0);
  void flush_weight_grads();
  void run_layers(const Tensor& x, const Tensor& h0, const Tensor& c0, Tensor& y, Tensor& hT,
                  Tensor& cT, RecurrentTape& tape, int64_t steps, int64_t batch);
  void backward_layers(const RecurrentTape& tape, const Tensor& diff_y, const Tensor& diff_hT,
                       const Tensor& diff_cT, Tensor& diff_x, Tensor& diff_h0, Tensor& diff_c0);
  void check_dims(const Tensor& t, const std::vector<int64_t>& expected, const char* what,
                  bool may_be_empty) const;

  std::vector<std::unique_ptr<LayerState>> layer_states_;
  Dropout input_dropout_, between_dropout_, output_dropout_;
  bool training_ = true;
};

}  // namespace cadenza
