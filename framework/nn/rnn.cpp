#include "nn/rnn.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <unordered_map>

#include "core/engine.hpp"
#include "core/error.hpp"

namespace cadenza {

using dnnl::memory;
using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

namespace {

constexpr uint64_t kInitTag = 0x7a9;

// Allocates `m` (oneDNN-owned buffer) unless it already has exactly this descriptor.
void ensure(memory& m, const memory::desc& desc) {
  if (!m || m.get_desc() != desc) m = memory(desc, cpu_engine());
}

void zero(memory& m) {
  std::memset(m.get_data_handle(), 0, m.get_desc().get_size());
}

void* handle(const Tensor& t) {
  return const_cast<float*>(t.data());
}
void* handle(const memory& m) {
  return m.get_data_handle();
}

// Copies rows [first, first + count) of a [R, B, H] state into a [count, B, H] tensor (zeros
// when the source is empty).
void take_rows(const Tensor& states, int64_t first, int64_t count, int64_t batch, int64_t hidden,
               Tensor& rows) {
  rows.reset({count, batch, hidden});
  if (states.empty()) return;
  const int64_t row = batch * hidden;
  std::copy_n(states.data() + first * row, count * row, rows.data());
}

void put_rows(const Tensor& rows, int64_t first, Tensor& states) {
  std::copy_n(rows.data(), rows.numel(), states.data() + first * rows.dim(1) * rows.dim(2));
}

void check_dims(const Tensor& t, const std::vector<int64_t>& expected, const char* what,
                bool may_be_empty) {
  if (may_be_empty && t.empty()) return;
  if (t.dims() != expected) {
    throw Error(fmt::format("Rnn: {} has shape [{}], expected [{}]{}", what,
                            fmt::join(t.dims(), ", "), fmt::join(expected, ", "),
                            may_be_empty ? " or empty" : ""));
  }
}

}  // namespace

// Primitives and their argument memories for one layer and one (T, B). The memories are bound to
// each call's buffers with set_data_handle, so a cached shape creates nothing per call.
struct Rnn::LayerPrimitives {
  int64_t steps = 0;
  int64_t batch = 0;
  dnnl::vanilla_rnn_forward::primitive_desc fwd_pd;
  dnnl::vanilla_rnn_forward fwd;
  dnnl::vanilla_rnn_backward::primitive_desc bwd_pd;
  dnnl::vanilla_rnn_backward bwd;
  std::unordered_map<int, memory> fwd_args;
  std::unordered_map<int, memory> bwd_args;
};

// Per layer: the primitive cache, the weights in the primitives' layouts and the diff-weight
// scratch the backward primitive accumulates into.
struct Rnn::LayerState {
  std::vector<std::unique_ptr<LayerPrimitives>> cache;
  memory fwd_weights_layer, fwd_weights_iter;
  bool fwd_weights_ready = false;
  memory bwd_weights_layer, bwd_weights_iter;
  bool bwd_weights_ready = false;
  memory diff_weights_layer, diff_weights_iter;
  Tensor diff_bias;  // [D, H]
  bool diff_pending = false;
};

Rnn::Rnn(const RnnOptions& options)
    : options_(options),
      input_dropout_(options.input_dropout, options.rng_tag * 4 + 1),
      between_dropout_(options.between_dropout, options.rng_tag * 4 + 2),
      output_dropout_(options.output_dropout, options.rng_tag * 4 + 3) {
  if (options.input_size <= 0 || options.hidden_size <= 0 || options.layers <= 0) {
    throw ConfigError(
        fmt::format("Rnn: input size {}, hidden size {} and layers {} must all be positive",
                    options.input_size, options.hidden_size, options.layers));
  }
  const int64_t d = directions(), h = options.hidden_size;
  for (int64_t l = 0; l < options.layers; ++l) {
    const std::string prefix = fmt::format("layer{}/", l);
    weights_ih_.push_back(std::make_unique<Parameter>(
        prefix + "W_ih", std::vector<int64_t>{d, h, layer_input_size(l)}));
    weights_hh_.push_back(
        std::make_unique<Parameter>(prefix + "W_hh", std::vector<int64_t>{d, h, h}));
    biases_.push_back(std::make_unique<Parameter>(prefix + "b", std::vector<int64_t>{d, h}));
    layer_states_.push_back(std::make_unique<LayerState>());
  }
}

Rnn::~Rnn() = default;

int64_t Rnn::layer_input_size(int64_t layer) const {
  return layer == 0 ? options_.input_size : output_size();
}

std::vector<Parameter*> Rnn::parameters() {
  std::vector<Parameter*> all;
  for (int64_t l = 0; l < options_.layers; ++l) {
    all.push_back(weights_ih_[l].get());
    all.push_back(weights_hh_[l].get());
    all.push_back(biases_[l].get());
  }
  return all;
}

void Rnn::init(uint64_t seed) {
  const float bound = 1.0f / std::sqrt(static_cast<float>(options_.hidden_size));
  uint64_t index = 0;
  for (Parameter* p : parameters()) {
    init_uniform(*p, bound, derive_key(seed, options_.rng_tag, kInitTag, index++));
  }
}

void Rnn::set_dropout_step(uint64_t seed, uint64_t step) {
  input_dropout_.set_step(seed, step);
  between_dropout_.set_step(seed, step);
  output_dropout_.set_step(seed, step);
}

void Rnn::set_training(bool training) {
  input_dropout_.set_training(training);
  between_dropout_.set_training(training);
  output_dropout_.set_training(training);
}

Rnn::LayerPrimitives& Rnn::primitives(int64_t layer, int64_t steps, int64_t batch) {
  LayerState& state = *layer_states_[layer];
  for (auto& p : state.cache) {
    if (p->steps == steps && p->batch == batch) return *p;
  }
  const int64_t d = directions(), h = options_.hidden_size, in = layer_input_size(layer);
  const auto direction = options_.bidirectional ? dnnl::rnn_direction::bidirectional_concat
                                                : dnnl::rnn_direction::unidirectional_left2right;
  const dt act = compute_type(options_.precision);
  const memory::desc src({steps, batch, in}, act, tag::tnc);
  const memory::desc iter({1, d, batch, h}, act, tag::ldnc);
  const memory::desc weights_layer({1, d, in, 1, h}, act, tag::any);
  const memory::desc weights_iter({1, d, h, 1, h}, act, tag::any);
  const memory::desc bias({1, d, 1, h}, dt::f32, tag::ldgo);
  const memory::desc dst({steps, batch, d * h}, act, tag::tnc);
  const memory::desc diff_src({steps, batch, in}, dt::f32, tag::tnc);
  const memory::desc diff_iter({1, d, batch, h}, dt::f32, tag::ldnc);
  const memory::desc diff_weights_layer({1, d, in, 1, h}, dt::f32, tag::any);
  const memory::desc diff_weights_iter({1, d, h, 1, h}, dt::f32, tag::any);
  const memory::desc diff_dst({steps, batch, d * h}, dt::f32, tag::tnc);

  auto p = std::make_unique<LayerPrimitives>();
  p->steps = steps;
  p->batch = batch;
  const auto activation = options_.activation == RnnActivation::tanh
                              ? dnnl::algorithm::eltwise_tanh
                              : dnnl::algorithm::eltwise_relu;
  dnnl::vanilla_rnn_forward::desc fwd_desc(dnnl::prop_kind::forward_training, activation, direction,
                                           src, iter, weights_layer, weights_iter, bias, dst, iter);
  p->fwd_pd =
      dnnl::vanilla_rnn_forward::primitive_desc(fwd_desc, user_scratchpad_attr(), cpu_engine());
  p->fwd = dnnl::vanilla_rnn_forward(p->fwd_pd);
  dnnl::vanilla_rnn_backward::desc bwd_desc(dnnl::prop_kind::backward, activation, direction, src,
                                            iter, weights_layer, weights_iter, bias, dst, iter,
                                            diff_src, diff_iter, diff_weights_layer,
                                            diff_weights_iter, bias, diff_dst, diff_iter);
  p->bwd_pd = dnnl::vanilla_rnn_backward::primitive_desc(bwd_desc, user_scratchpad_attr(),
                                                         cpu_engine(), p->fwd_pd);
  p->bwd = dnnl::vanilla_rnn_backward(p->bwd_pd);

  auto unbound = [](const memory::desc& md) { return memory(md, cpu_engine(), nullptr); };
  const auto& f = p->fwd_pd;
  for (int arg :
       {DNNL_ARG_SRC_LAYER, DNNL_ARG_SRC_ITER, DNNL_ARG_WEIGHTS_LAYER, DNNL_ARG_WEIGHTS_ITER,
        DNNL_ARG_BIAS, DNNL_ARG_DST_LAYER, DNNL_ARG_DST_ITER, DNNL_ARG_WORKSPACE}) {
    p->fwd_args[arg] = unbound(f.query_md(dnnl::query::exec_arg_md, arg));
  }
  const auto& b = p->bwd_pd;
  for (int arg : {DNNL_ARG_SRC_LAYER, DNNL_ARG_SRC_ITER, DNNL_ARG_WEIGHTS_LAYER,
                  DNNL_ARG_WEIGHTS_ITER, DNNL_ARG_BIAS, DNNL_ARG_DST_LAYER, DNNL_ARG_DST_ITER,
                  DNNL_ARG_WORKSPACE, DNNL_ARG_DIFF_SRC_LAYER, DNNL_ARG_DIFF_SRC_ITER,
                  DNNL_ARG_DIFF_WEIGHTS_LAYER, DNNL_ARG_DIFF_WEIGHTS_ITER, DNNL_ARG_DIFF_BIAS,
                  DNNL_ARG_DIFF_DST_LAYER, DNNL_ARG_DIFF_DST_ITER}) {
    p->bwd_args[arg] = unbound(b.query_md(dnnl::query::exec_arg_md, arg));
  }
  if (memory scratchpad = scratchpad_arg(p->fwd)) p->fwd_args[DNNL_ARG_SCRATCHPAD] = scratchpad;
  if (memory scratchpad = scratchpad_arg(p->bwd)) p->bwd_args[DNNL_ARG_SCRATCHPAD] = scratchpad;
  state.cache.push_back(std::move(p));
  return *state.cache.back();
}

// The layer's W_ih, W_hh (PyTorch layout) into layer_weights, iter_weights (in whatever layout
// their descriptors have).
void Rnn::reorder_weights(int64_t layer, memory& layer_weights, memory& iter_weights) {
  const int64_t d = directions(), h = options_.hidden_size, in = layer_input_size(layer);
  reorders_.reorder(wrap_memory(memory::desc({1, d, in, 1, h}, dt::f32, tag::ldgoi),
                                weights_ih_[layer]->value.data()),
                    layer_weights);
  reorders_.reorder(wrap_memory(memory::desc({1, d, h, 1, h}, dt::f32, tag::ldgoi),
                                weights_hh_[layer]->value.data()),
                    iter_weights);
}

// One layer forward over lt.input [T, B, I_l], lt.h0 [D, B, H] -> lt.output [T, B, D*H],
// lt.hT [D, B, H] and the workspace.
void Rnn::forward_layer(int64_t layer, int64_t steps, int64_t batch, RnnLayerTape& lt) {
  LayerPrimitives& p = primitives(layer, steps, batch);
  LayerState& state = *layer_states_[layer];
  const int64_t d = directions(), h = options_.hidden_size;
  const bool low = options_.precision == Precision::bf16;

  if (!state.fwd_weights_ready ||
      state.fwd_weights_layer.get_desc() != p.fwd_pd.weights_layer_desc() ||
      state.fwd_weights_iter.get_desc() != p.fwd_pd.weights_iter_desc()) {
    ensure(state.fwd_weights_layer, p.fwd_pd.weights_layer_desc());
    ensure(state.fwd_weights_iter, p.fwd_pd.weights_iter_desc());
    reorder_weights(layer, state.fwd_weights_layer, state.fwd_weights_iter);
    state.fwd_weights_ready = true;
  }

  lt.output.reset({steps, batch, d * h});
  lt.hT.reset({d, batch, h});
  ensure(lt.workspace, p.fwd_pd.workspace_desc());
  const memory::desc state_desc({1, d, batch, h}, dt::f32, tag::ldnc);
  void* src = handle(lt.input);
  void* src_iter = handle(lt.h0);
  void* dst = handle(lt.output);
  void* dst_iter = handle(lt.hT);
  if (low) {
    ensure(lt.input_lp, p.fwd_pd.src_layer_desc());
    ensure(lt.h0_lp, p.fwd_pd.src_iter_desc());
    ensure(lt.output_lp, p.fwd_pd.dst_layer_desc());
    ensure(lt.hT_lp, p.fwd_pd.dst_iter_desc());
    reorders_.reorder(lt.input.memory(), lt.input_lp);
    reorders_.reorder(wrap_memory(state_desc, lt.h0.data()), lt.h0_lp);
    src = handle(lt.input_lp);
    src_iter = handle(lt.h0_lp);
    dst = handle(lt.output_lp);
    dst_iter = handle(lt.hT_lp);
  }
  auto& a = p.fwd_args;
  a[DNNL_ARG_SRC_LAYER].set_data_handle(src);
  a[DNNL_ARG_SRC_ITER].set_data_handle(src_iter);
  a[DNNL_ARG_WEIGHTS_LAYER].set_data_handle(handle(state.fwd_weights_layer));
  a[DNNL_ARG_WEIGHTS_ITER].set_data_handle(handle(state.fwd_weights_iter));
  a[DNNL_ARG_BIAS].set_data_handle(handle(biases_[layer]->value));
  a[DNNL_ARG_DST_LAYER].set_data_handle(dst);
  a[DNNL_ARG_DST_ITER].set_data_handle(dst_iter);
  a[DNNL_ARG_WORKSPACE].set_data_handle(handle(lt.workspace));
  execute_and_wait(p.fwd, a);
  if (low) {
    reorders_.reorder(lt.output_lp, lt.output.memory());
    reorders_.reorder(lt.hT_lp, wrap_memory(state_desc, lt.hT.data()));
  }
}

// One layer backward: diff_dst [T, B, D*H], diff_hT [D, B, H] -> diff_src [T, B, I_l],
// diff_h0 [D, B, H]; weight gradients accumulate in the layer's scratch.
void Rnn::backward_layer(int64_t layer, const RnnLayerTape& lt, const Tensor& diff_dst,
                         const Tensor& diff_hT, Tensor& diff_src, Tensor& diff_h0) {
  const int64_t steps = lt.output.dim(0), batch = lt.output.dim(1);
  LayerPrimitives& p = primitives(layer, steps, batch);
  LayerState& state = *layer_states_[layer];
  const int64_t d = directions(), h = options_.hidden_size, in = layer_input_size(layer);
  const bool low = options_.precision == Precision::bf16;

  if (!state.bwd_weights_ready ||
      state.bwd_weights_layer.get_desc() != p.bwd_pd.weights_layer_desc() ||
      state.bwd_weights_iter.get_desc() != p.bwd_pd.weights_iter_desc()) {
    ensure(state.bwd_weights_layer, p.bwd_pd.weights_layer_desc());
    ensure(state.bwd_weights_iter, p.bwd_pd.weights_iter_desc());
    reorder_weights(layer, state.bwd_weights_layer, state.bwd_weights_iter);
    state.bwd_weights_ready = true;
  }
  if (state.diff_pending &&
      (state.diff_weights_layer.get_desc() != p.bwd_pd.diff_weights_layer_desc() ||
       state.diff_weights_iter.get_desc() != p.bwd_pd.diff_weights_iter_desc())) {
    flush_weight_grads();
  }
  if (!state.diff_pending) {
    ensure(state.diff_weights_layer, p.bwd_pd.diff_weights_layer_desc());
    ensure(state.diff_weights_iter, p.bwd_pd.diff_weights_iter_desc());
    zero(state.diff_weights_layer);
    zero(state.diff_weights_iter);
    state.diff_bias.reset({d, h});
    state.diff_pending = true;
  }

  diff_src.reset({steps, batch, in});
  diff_h0.reset({d, batch, h});
  auto& a = p.bwd_args;
  a[DNNL_ARG_SRC_LAYER].set_data_handle(low ? handle(lt.input_lp) : handle(lt.input));
  a[DNNL_ARG_SRC_ITER].set_data_handle(low ? handle(lt.h0_lp) : handle(lt.h0));
  a[DNNL_ARG_WEIGHTS_LAYER].set_data_handle(handle(state.bwd_weights_layer));
  a[DNNL_ARG_WEIGHTS_ITER].set_data_handle(handle(state.bwd_weights_iter));
  a[DNNL_ARG_BIAS].set_data_handle(handle(biases_[layer]->value));
  a[DNNL_ARG_DST_LAYER].set_data_handle(low ? handle(lt.output_lp) : handle(lt.output));
  a[DNNL_ARG_DST_ITER].set_data_handle(low ? handle(lt.hT_lp) : handle(lt.hT));
  a[DNNL_ARG_WORKSPACE].set_data_handle(handle(lt.workspace));
  a[DNNL_ARG_DIFF_DST_LAYER].set_data_handle(handle(diff_dst));
  a[DNNL_ARG_DIFF_DST_ITER].set_data_handle(handle(diff_hT));
  a[DNNL_ARG_DIFF_SRC_LAYER].set_data_handle(handle(diff_src));
  a[DNNL_ARG_DIFF_SRC_ITER].set_data_handle(handle(diff_h0));
  a[DNNL_ARG_DIFF_WEIGHTS_LAYER].set_data_handle(handle(state.diff_weights_layer));
  a[DNNL_ARG_DIFF_WEIGHTS_ITER].set_data_handle(handle(state.diff_weights_iter));
  a[DNNL_ARG_DIFF_BIAS].set_data_handle(handle(state.diff_bias));
  execute_and_wait(p.bwd, a);
}

// Adds the diff-weight scratch of every layer into the parameter gradients (PyTorch layout).
void Rnn::flush_weight_grads() {
  const int64_t d = directions(), h = options_.hidden_size;
  for (int64_t l = 0; l < options_.layers; ++l) {
    LayerState& state = *layer_states_[l];
    if (!state.diff_pending) continue;
    const int64_t in = layer_input_size(l);
    reorders_.reorder(state.diff_weights_layer,
                      wrap_memory(memory::desc({1, d, in, 1, h}, dt::f32, tag::ldgoi),
                                  weights_ih_[l]->grad.data()),
                      true);
    reorders_.reorder(state.diff_weights_iter,
                      wrap_memory(memory::desc({1, d, h, 1, h}, dt::f32, tag::ldgoi),
                                  weights_hh_[l]->grad.data()),
                      true);
    reorders_.reorder(state.diff_bias.memory(), biases_[l]->grad.memory(), true);
    state.diff_pending = false;
  }
}

void Rnn::run_layers(const Tensor& x, const Tensor& h0, Tensor& y, Tensor& hT, RnnTape& tape,
                     int64_t steps, int64_t batch) {
  const int64_t d = directions(), h = options_.hidden_size, layers = options_.layers;
  tape.steps = steps;
  tape.batch = batch;
  tape.layers.resize(static_cast<std::size_t>(layers));
  hT.reset({layers * d, batch, h});
  for (int64_t l = 0; l < layers; ++l) {
    RnnLayerTape& lt = tape.layers[l];
    if (l == 0) {
      input_dropout_.forward(x, lt.input, lt.input_mask);
    } else {
      between_dropout_.forward(tape.layers[l - 1].output, lt.input, lt.input_mask);
    }
    take_rows(h0, l * d, d, batch, h, lt.h0);
    forward_layer(l, steps, batch, lt);
    put_rows(lt.hT, l * d, hT);
  }
  output_dropout_.forward(tape.layers.back().output, y, tape.output_mask);
}

void Rnn::backward_layers(const RnnTape& tape, const Tensor& diff_y, const Tensor& diff_hT,
                          Tensor& diff_x, Tensor& diff_h0) {
  const int64_t d = directions(), h = options_.hidden_size, layers = options_.layers;
  const int64_t batch = tape.batch;
  if (static_cast<int64_t>(tape.layers.size()) != layers) {
    throw Error("Rnn::backward: the tape does not come from this layer's forward");
  }
  Tensor diff_dst, diff_src, layer_diff_hT, layer_diff_h0;
  output_dropout_.backward(diff_y, tape.output_mask, diff_dst);
  diff_h0.reset({layers * d, batch, h});
  for (int64_t l = layers - 1; l >= 0; --l) {
    const RnnLayerTape& lt = tape.layers[l];
    take_rows(diff_hT, l * d, d, batch, h, layer_diff_hT);
    backward_layer(l, lt, diff_dst, layer_diff_hT, diff_src, layer_diff_h0);
    put_rows(layer_diff_h0, l * d, diff_h0);
    if (l > 0) {
      between_dropout_.backward(diff_src, lt.input_mask, diff_dst);
    } else {
      input_dropout_.backward(diff_src, lt.input_mask, diff_x);
    }
  }
}

void Rnn::forward(const Tensor& x, const Tensor& h0, Tensor& y, Tensor& hT, RnnTape& tape) {
  if (x.rank() != 3 || x.dim(2) != options_.input_size || x.dim(0) == 0 || x.dim(1) == 0) {
    throw Error(fmt::format("Rnn::forward: x has shape [{}], expected [T, B, {}] with T, B > 0",
                            fmt::join(x.dims(), ", "), options_.input_size));
  }
  check_dims(h0, {state_rows(), x.dim(1), options_.hidden_size}, "h0", true);
  for (auto& s : layer_states_)
    s->fwd_weights_ready = false;
  run_layers(x, h0, y, hT, tape, x.dim(0), x.dim(1));
}

void Rnn::backward(const RnnTape& tape, const Tensor& diff_y, const Tensor& diff_hT, Tensor& diff_x,
                   Tensor& diff_h0) {
  check_dims(diff_y, {tape.steps, tape.batch, output_size()}, "diff_y", false);
  check_dims(diff_hT, {state_rows(), tape.batch, options_.hidden_size}, "diff_hT", true);
  for (auto& s : layer_states_)
    s->bwd_weights_ready = false;
  backward_layers(tape, diff_y, diff_hT, diff_x, diff_h0);
  flush_weight_grads();
}

void Rnn::begin_steps() {
  if (options_.bidirectional) {
    throw UsageError(
        "Rnn: step mode needs a unidirectional RNN (a bidirectional one reads the whole "
        "sequence)");
  }
  for (auto& s : layer_states_) {
    s->fwd_weights_ready = false;
    s->bwd_weights_ready = false;
  }
}

void Rnn::step_forward(const Tensor& x_t, const Tensor& h_in, Tensor& y_t, Tensor& h_out,
                       RnnTape& tape) {
  if (options_.bidirectional) {
    throw UsageError("Rnn::step_forward: step mode needs a unidirectional RNN");
  }
  if (x_t.rank() != 2 || x_t.dim(1) != options_.input_size || x_t.dim(0) == 0) {
    throw Error(fmt::format("Rnn::step_forward: x_t has shape [{}], expected [B, {}]",
                            fmt::join(x_t.dims(), ", "), options_.input_size));
  }
  const int64_t batch = x_t.dim(0), h = options_.hidden_size;
  check_dims(h_in, {options_.layers, batch, h}, "h_in", true);
  Tensor x({1, batch, options_.input_size});
  std::copy_n(x_t.data(), x_t.numel(), x.data());
  Tensor y;
  run_layers(x, h_in, y, h_out, tape, 1, batch);
  y_t.reset({batch, h});
  std::copy_n(y.data(), y.numel(), y_t.data());
}

void Rnn::step_backward(const RnnTape& tape, const Tensor& diff_y_t, const Tensor& diff_h_out,
                        Tensor& diff_x_t, Tensor& diff_h_in) {
  const int64_t batch = tape.batch, h = options_.hidden_size;
  if (tape.steps != 1) throw Error("Rnn::step_backward: the tape is not from step_forward");
  check_dims(diff_y_t, {batch, h}, "diff_y_t", false);
  check_dims(diff_h_out, {options_.layers, batch, h}, "diff_h_out", true);
  Tensor diff_y({1, batch, h});
  std::copy_n(diff_y_t.data(), diff_y_t.numel(), diff_y.data());
  Tensor diff_x;
  backward_layers(tape, diff_y, diff_h_out, diff_x, diff_h_in);
  diff_x_t.reset({batch, options_.input_size});
  std::copy_n(diff_x.data(), diff_x.numel(), diff_x_t.data());
}

void Rnn::end_step_backward() {
  flush_weight_grads();
}

std::vector<std::pair<std::string, Tensor>> Rnn::export_torch() const {
  std::vector<std::pair<std::string, Tensor>> state;
  const int64_t h = options_.hidden_size;
  for (int64_t l = 0; l < options_.layers; ++l) {
    const int64_t in = layer_input_size(l);
    for (int64_t d = 0; d < directions(); ++d) {
      const std::string suffix = fmt::format("_l{}{}", l, d == 1 ? "_reverse" : "");
      Tensor w_ih({h, in}), w_hh({h, h}), b_ih({h}), b_hh({h});
      std::copy_n(weights_ih_[l]->value.data() + d * h * in, w_ih.numel(), w_ih.data());
      std::copy_n(weights_hh_[l]->value.data() + d * h * h, w_hh.numel(), w_hh.data());
      std::copy_n(biases_[l]->value.data() + d * h, b_ih.numel(), b_ih.data());
      state.emplace_back("weight_ih" + suffix, std::move(w_ih));
      state.emplace_back("weight_hh" + suffix, std::move(w_hh));
      state.emplace_back("bias_ih" + suffix, std::move(b_ih));
      state.emplace_back("bias_hh" + suffix, std::move(b_hh));
    }
  }
  return state;
}

void Rnn::import_torch(const std::map<std::string, Tensor>& state) {
  const int64_t h = options_.hidden_size;
  auto find = [&](const std::string& name, const std::vector<int64_t>& dims) -> const Tensor& {
    const auto it = state.find(name);
    if (it == state.end()) {
      throw InputError(fmt::format("RNN weights: entry \"{}\" is missing", name));
    }
    if (it->second.dims() != dims) {
      throw InputError(fmt::format("RNN weights: \"{}\" has shape [{}], expected [{}]", name,
                                   fmt::join(it->second.dims(), ", "), fmt::join(dims, ", ")));
    }
    return it->second;
  };
  for (int64_t l = 0; l < options_.layers; ++l) {
    const int64_t in = layer_input_size(l);
    for (int64_t d = 0; d < directions(); ++d) {
      const std::string suffix = fmt::format("_l{}{}", l, d == 1 ? "_reverse" : "");
      const Tensor& w_ih = find("weight_ih" + suffix, {h, in});
      const Tensor& w_hh = find("weight_hh" + suffix, {h, h});
      const Tensor& b_ih = find("bias_ih" + suffix, {h});
      const Tensor& b_hh = find("bias_hh" + suffix, {h});
      std::copy_n(w_ih.data(), w_ih.numel(), weights_ih_[l]->value.data() + d * h * in);
      std::copy_n(w_hh.data(), w_hh.numel(), weights_hh_[l]->value.data() + d * h * h);
      float* b = biases_[l]->value.data() + d * h;
      for (int64_t i = 0; i < h; ++i)
        b[i] = b_ih[i] + b_hh[i];
    }
  }
}

}  // namespace cadenza
