#include "nn/recurrent.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/engine.hpp"
#include "core/error.hpp"

namespace cadenza {

using dnnl::memory;
using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

namespace {

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

}  // namespace

// Per layer: the primitive cache, the weights in the primitives' layouts, the bias they read and
// the diff-weight scratch the backward primitive accumulates into.
struct Recurrent::LayerState {
  std::vector<std::unique_ptr<Primitives>> cache;
  memory fwd_weights_layer, fwd_weights_iter;
  bool fwd_weights_ready = false;
  memory bwd_weights_layer, bwd_weights_iter;
  bool bwd_weights_ready = false;
  const Tensor* bias = nullptr;  // [D, bias_rows*H], from primitive_bias()
  memory diff_weights_layer, diff_weights_iter;
  Tensor diff_bias;  // [D, bias_rows*H]
  bool diff_pending = false;
};

Recurrent::Recurrent(const RecurrentSpec& spec)
    : spec_(spec),
      input_dropout_(spec.options.input_dropout, spec.options.rng_tag * 4 + 1),
      between_dropout_(spec.options.between_dropout, spec.options.rng_tag * 4 + 2),
      output_dropout_(spec.options.output_dropout, spec.options.rng_tag * 4 + 3) {
  if (spec.options.input_size <= 0 || spec.options.hidden_size <= 0 || spec.options.layers <= 0) {
    throw ConfigError(fmt::format(
        "{}: input size {}, hidden size {} and layers {} must all be positive", spec.name,
        spec.options.input_size, spec.options.hidden_size, spec.options.layers));
  }
  const int64_t d = directions(), gh = spec.gates * spec.options.hidden_size;
  for (int64_t l = 0; l < spec.options.layers; ++l) {
    const std::string prefix = fmt::format("layer{}/", l);
    weights_ih_.push_back(std::make_unique<Parameter>(
        prefix + "W_ih", std::vector<int64_t>{d, gh, layer_input_size(l)}));
    weights_hh_.push_back(std::make_unique<Parameter>(
        prefix + "W_hh", std::vector<int64_t>{d, gh, spec.options.hidden_size}));
    biases_.push_back(std::make_unique<Parameter>(prefix + (spec.split_bias ? "b_ih" : "b"),
                                                  std::vector<int64_t>{d, gh}));
    if (spec.split_bias) {
      biases_hh_.push_back(
          std::make_unique<Parameter>(prefix + "b_hh", std::vector<int64_t>{d, gh}));
    }
    layer_states_.push_back(std::make_unique<LayerState>());
  }
}

Recurrent::~Recurrent() = default;

int64_t Recurrent::layer_input_size(int64_t layer) const {
  return layer == 0 ? spec_.options.input_size : output_size();
}

std::vector<Parameter*> Recurrent::parameters() {
  std::vector<Parameter*> all;
  for (int64_t l = 0; l < spec_.options.layers; ++l) {
    all.push_back(weights_ih_[l].get());
    all.push_back(weights_hh_[l].get());
    all.push_back(biases_[l].get());
    if (spec_.split_bias) all.push_back(biases_hh_[l].get());
  }
  return all;
}

void Recurrent::init(uint64_t seed) {
  const float bound = 1.0f / std::sqrt(static_cast<float>(spec_.options.hidden_size));
  uint64_t index = 0;
  for (Parameter* p : parameters()) {
    init_uniform(*p, bound, derive_key(seed, spec_.options.rng_tag, spec_.init_tag, index++));
  }
  if (spec_.options.forget_bias == 0.0f) return;
  if (spec_.forget_gate < 0) {
    throw ConfigError(fmt::format("{}: forget_bias = {} but the cell has no forget gate",
                                  spec_.name, spec_.options.forget_bias));
  }
  // b [D, G*H]: direction d's forget gate is the block [d*G*H + f*H, d*G*H + (f+1)*H).
  const int64_t hidden = spec_.options.hidden_size;
  for (const auto& bias : biases_) {
    float* b = bias->value.data();
    for (int64_t d = 0; d < directions(); ++d) {
      float* forget = b + (d * spec_.gates + spec_.forget_gate) * hidden;
      std::fill(forget, forget + hidden, spec_.options.forget_bias);
    }
  }
}

void Recurrent::set_dropout_step(uint64_t seed, uint64_t step) {
  input_dropout_.set_step(seed, step);
  between_dropout_.set_step(seed, step);
  output_dropout_.set_step(seed, step);
}

void Recurrent::set_training(bool training) {
  training_ = training;
  input_dropout_.set_training(training);
  between_dropout_.set_training(training);
  output_dropout_.set_training(training);
}

void Recurrent::check_dims(const Tensor& t, const std::vector<int64_t>& expected, const char* what,
                           bool may_be_empty) const {
  if (may_be_empty && t.empty()) return;
  if (t.dims() != expected) {
    throw Error(fmt::format("{}: {} has shape [{}], expected [{}]{}", spec_.name, what,
                            fmt::join(t.dims(), ", "), fmt::join(expected, ", "),
                            may_be_empty ? " or empty" : ""));
  }
}

Recurrent::Primitives& Recurrent::primitives(int64_t layer, int64_t steps, int64_t batch) {
  LayerState& state = *layer_states_[layer];
  for (auto& p : state.cache) {
    if (p->steps == steps && p->batch == batch) return *p;
  }
  const int64_t d = directions(), h = spec_.options.hidden_size, in = layer_input_size(layer);
  const int64_t g = spec_.gates;
  const dt act = compute_type(spec_.options.precision);
  const Descs descs{spec_.options.bidirectional ? dnnl::rnn_direction::bidirectional_concat
                                                : dnnl::rnn_direction::unidirectional_left2right,
                    memory::desc({steps, batch, in}, act, tag::tnc),
                    memory::desc({1, d, batch, h}, act, tag::ldnc),
                    memory::desc({1, d, batch, h}, dt::f32, tag::ldnc),
                    memory::desc({1, d, in, g, h}, act, tag::any),
                    memory::desc({1, d, h, g, h}, act, tag::any),
                    memory::desc({1, d, spec_.bias_rows, h}, dt::f32, tag::ldgo),
                    memory::desc({steps, batch, d * h}, act, tag::tnc),
                    memory::desc({steps, batch, in}, dt::f32, tag::tnc),
                    memory::desc({1, d, batch, h}, dt::f32, tag::ldnc),
                    memory::desc({1, d, in, g, h}, dt::f32, tag::any),
                    memory::desc({1, d, h, g, h}, dt::f32, tag::any),
                    memory::desc({steps, batch, d * h}, dt::f32, tag::tnc)};

  auto p = std::make_unique<Primitives>();
  p->steps = steps;
  p->batch = batch;
  p->descs = descs;
  create(descs, *p);

  std::vector<int> fwd_args{DNNL_ARG_SRC_LAYER,    DNNL_ARG_SRC_ITER, DNNL_ARG_WEIGHTS_LAYER,
                            DNNL_ARG_WEIGHTS_ITER, DNNL_ARG_BIAS,     DNNL_ARG_DST_LAYER,
                            DNNL_ARG_DST_ITER,     DNNL_ARG_WORKSPACE};
  if (spec_.cell_state) {
    fwd_args.insert(fwd_args.end(), {DNNL_ARG_SRC_ITER_C, DNNL_ARG_DST_ITER_C});
  }
  std::vector<int> bwd_args = fwd_args;
  bwd_args.insert(bwd_args.end(),
                  {DNNL_ARG_DIFF_SRC_LAYER, DNNL_ARG_DIFF_SRC_ITER, DNNL_ARG_DIFF_WEIGHTS_LAYER,
                   DNNL_ARG_DIFF_WEIGHTS_ITER, DNNL_ARG_DIFF_BIAS, DNNL_ARG_DIFF_DST_LAYER,
                   DNNL_ARG_DIFF_DST_ITER});
  if (spec_.cell_state) {
    bwd_args.insert(bwd_args.end(), {DNNL_ARG_DIFF_SRC_ITER_C, DNNL_ARG_DIFF_DST_ITER_C});
  }
  auto unbound = [](const memory::desc& md) { return memory(md, cpu_engine(), nullptr); };
  for (int arg : fwd_args) {
    p->fwd_args[arg] = unbound(p->fwd_pd.query_md(dnnl::query::exec_arg_md, arg));
  }
  for (int arg : bwd_args) {
    p->bwd_args[arg] = unbound(p->bwd_pd.query_md(dnnl::query::exec_arg_md, arg));
  }
  if (memory scratchpad = scratchpad_arg(p->fwd)) p->fwd_args[DNNL_ARG_SCRATCHPAD] = scratchpad;
  if (memory scratchpad = scratchpad_arg(p->bwd)) p->bwd_args[DNNL_ARG_SCRATCHPAD] = scratchpad;
  state.cache.push_back(std::move(p));
  return *state.cache.back();
}

void Recurrent::ensure_inference(Primitives& p) {
  if (p.inf) return;
  Descs descs = p.descs;
  descs.weights_layer = p.fwd_pd.weights_layer_desc();
  descs.weights_iter = p.fwd_pd.weights_iter_desc();
  p.inf_pd = create_inference(descs);
  p.inf = dnnl::primitive(p.inf_pd);
  for (const auto& [arg, bound] : p.fwd_args) {
    if (arg == DNNL_ARG_WORKSPACE || arg == DNNL_ARG_SCRATCHPAD) continue;
    p.inf_args[arg] =
        memory(p.inf_pd.query_md(dnnl::query::exec_arg_md, arg), cpu_engine(), nullptr);
  }
  if (memory scratchpad = scratchpad_arg(p.inf)) p.inf_args[DNNL_ARG_SCRATCHPAD] = scratchpad;
}

void Recurrent::reorder_weights(int64_t layer, memory& layer_weights, memory& iter_weights) {
  const int64_t d = directions(), h = spec_.options.hidden_size, in = layer_input_size(layer);
  const int64_t g = spec_.gates;
  reorders_.reorder(wrap_memory(memory::desc({1, d, in, g, h}, dt::f32, tag::ldgoi),
                                weights_ih_[layer]->value.data()),
                    layer_weights);
  reorders_.reorder(wrap_memory(memory::desc({1, d, h, g, h}, dt::f32, tag::ldgoi),
                                weights_hh_[layer]->value.data()),
                    iter_weights);
}

const Tensor& Recurrent::primitive_bias(int64_t layer) {
  return biases_[layer]->value;
}

void Recurrent::add_grads(int64_t layer, const memory& diff_weights_layer,
                          const memory& diff_weights_iter, const Tensor& diff_bias) {
  const int64_t d = directions(), h = spec_.options.hidden_size, in = layer_input_size(layer);
  const int64_t g = spec_.gates;
  reorders_.reorder(diff_weights_layer,
                    wrap_memory(memory::desc({1, d, in, g, h}, dt::f32, tag::ldgoi),
                                weights_ih_[layer]->grad.data()),
                    true);
  reorders_.reorder(diff_weights_iter,
                    wrap_memory(memory::desc({1, d, h, g, h}, dt::f32, tag::ldgoi),
                                weights_hh_[layer]->grad.data()),
                    true);
  reorders_.reorder(diff_bias.memory(), biases_[layer]->grad.memory(), true);
}

// One layer forward over lt.input [T, B, I_l], lt.h0 (lt.c0) [D, B, H] -> lt.output
// [T, B, D*H], lt.hT (lt.cT) [D, B, H] and (training) the workspace. With `inference` the
// forward_inference primitive runs on the same weights and bias, and no workspace is kept.
void Recurrent::forward_layer(int64_t layer, int64_t steps, int64_t batch, bool inference,
                              RecurrentLayerTape& lt) {
  Primitives& p = primitives(layer, steps, batch);
  if (inference) ensure_inference(p);
  LayerState& state = *layer_states_[layer];
  const int64_t d = directions(), h = spec_.options.hidden_size;
  const bool low = spec_.options.precision == Precision::bf16;

  if (!state.fwd_weights_ready ||
      state.fwd_weights_layer.get_desc() != p.fwd_pd.weights_layer_desc() ||
      state.fwd_weights_iter.get_desc() != p.fwd_pd.weights_iter_desc()) {
    ensure(state.fwd_weights_layer, p.fwd_pd.weights_layer_desc());
    ensure(state.fwd_weights_iter, p.fwd_pd.weights_iter_desc());
    reorder_weights(layer, state.fwd_weights_layer, state.fwd_weights_iter);
    state.bias = &primitive_bias(layer);
    state.fwd_weights_ready = true;
  }

  lt.output.reset({steps, batch, d * h});
  lt.hT.reset({d, batch, h});
  if (spec_.cell_state) lt.cT.reset({d, batch, h});
  if (!inference) ensure(lt.workspace, p.fwd_pd.workspace_desc());
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
  auto& a = inference ? p.inf_args : p.fwd_args;
  a[DNNL_ARG_SRC_LAYER].set_data_handle(src);
  a[DNNL_ARG_SRC_ITER].set_data_handle(src_iter);
  a[DNNL_ARG_WEIGHTS_LAYER].set_data_handle(handle(state.fwd_weights_layer));
  a[DNNL_ARG_WEIGHTS_ITER].set_data_handle(handle(state.fwd_weights_iter));
  a[DNNL_ARG_BIAS].set_data_handle(handle(*state.bias));
  a[DNNL_ARG_DST_LAYER].set_data_handle(dst);
  a[DNNL_ARG_DST_ITER].set_data_handle(dst_iter);
  if (!inference) a[DNNL_ARG_WORKSPACE].set_data_handle(handle(lt.workspace));
  if (spec_.cell_state) {
    a[DNNL_ARG_SRC_ITER_C].set_data_handle(handle(lt.c0));
    a[DNNL_ARG_DST_ITER_C].set_data_handle(handle(lt.cT));
  }
  execute_and_wait(inference ? p.inf : p.fwd, a);
  if (low) {
    reorders_.reorder(lt.output_lp, lt.output.memory());
    reorders_.reorder(lt.hT_lp, wrap_memory(state_desc, lt.hT.data()));
  }
}

// One layer backward: diff_dst [T, B, D*H], diff_hT (diff_cT) [D, B, H] -> diff_src
// [T, B, I_l], diff_h0 (diff_c0) [D, B, H]; weight gradients accumulate in the layer's scratch.
void Recurrent::backward_layer(int64_t layer, const RecurrentLayerTape& lt, const Tensor& diff_dst,
                               const Tensor& diff_hT, const Tensor& diff_cT, Tensor& diff_src,
                               Tensor& diff_h0, Tensor& diff_c0) {
  const int64_t steps = lt.output.dim(0), batch = lt.output.dim(1);
  Primitives& p = primitives(layer, steps, batch);
  LayerState& state = *layer_states_[layer];
  const int64_t d = directions(), h = spec_.options.hidden_size, in = layer_input_size(layer);
  const bool low = spec_.options.precision == Precision::bf16;

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
    state.diff_bias.reset({d, spec_.bias_rows * h});
    state.diff_pending = true;
  }

  diff_src.reset({steps, batch, in});
  diff_h0.reset({d, batch, h});
  auto& a = p.bwd_args;
  a[DNNL_ARG_SRC_LAYER].set_data_handle(low ? handle(lt.input_lp) : handle(lt.input));
  a[DNNL_ARG_SRC_ITER].set_data_handle(low ? handle(lt.h0_lp) : handle(lt.h0));
  a[DNNL_ARG_WEIGHTS_LAYER].set_data_handle(handle(state.bwd_weights_layer));
  a[DNNL_ARG_WEIGHTS_ITER].set_data_handle(handle(state.bwd_weights_iter));
  a[DNNL_ARG_BIAS].set_data_handle(handle(*state.bias));
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
  if (spec_.cell_state) {
    diff_c0.reset({d, batch, h});
    a[DNNL_ARG_SRC_ITER_C].set_data_handle(handle(lt.c0));
    a[DNNL_ARG_DST_ITER_C].set_data_handle(handle(lt.cT));
    a[DNNL_ARG_DIFF_DST_ITER_C].set_data_handle(handle(diff_cT));
    a[DNNL_ARG_DIFF_SRC_ITER_C].set_data_handle(handle(diff_c0));
  }
  execute_and_wait(p.bwd, a);
}

// Adds the diff-weight scratch of every layer into the parameter gradients.
void Recurrent::flush_weight_grads() {
  for (int64_t l = 0; l < spec_.options.layers; ++l) {
    LayerState& state = *layer_states_[l];
    if (!state.diff_pending) continue;
    add_grads(l, state.diff_weights_layer, state.diff_weights_iter, state.diff_bias);
    state.diff_pending = false;
  }
}

void Recurrent::run_layers(const Tensor& x, const Tensor& h0, const Tensor& c0, Tensor& y,
                           Tensor& hT, Tensor& cT, RecurrentTape& tape, int64_t steps,
                           int64_t batch) {
  const int64_t d = directions(), h = spec_.options.hidden_size, layers = spec_.options.layers;
  const bool c = spec_.cell_state;
  tape.steps = steps;
  tape.batch = batch;
  tape.inference = !training_;
  tape.layers.resize(static_cast<std::size_t>(layers));
  hT.reset({layers * d, batch, h});
  if (c) cT.reset({layers * d, batch, h});
  for (int64_t l = 0; l < layers; ++l) {
    RecurrentLayerTape& lt = tape.layers[l];
    if (l == 0) {
      input_dropout_.forward(x, lt.input, lt.input_mask);
    } else {
      between_dropout_.forward(tape.layers[l - 1].output, lt.input, lt.input_mask);
    }
    take_rows(h0, l * d, d, batch, h, lt.h0);
    if (c) take_rows(c0, l * d, d, batch, h, lt.c0);
    forward_layer(l, steps, batch, tape.inference, lt);
    put_rows(lt.hT, l * d, hT);
    if (c) put_rows(lt.cT, l * d, cT);
  }
  output_dropout_.forward(tape.layers.back().output, y, tape.output_mask);
}

void Recurrent::backward_layers(const RecurrentTape& tape, const Tensor& diff_y,
                                const Tensor& diff_hT, const Tensor& diff_cT, Tensor& diff_x,
                                Tensor& diff_h0, Tensor& diff_c0) {
  const int64_t d = directions(), h = spec_.options.hidden_size, layers = spec_.options.layers;
  const int64_t batch = tape.batch;
  const bool c = spec_.cell_state;
  if (static_cast<int64_t>(tape.layers.size()) != layers) {
    throw Error(
        fmt::format("{}::backward: the tape does not come from this layer's forward", spec_.name));
  }
  if (tape.inference) {
    throw Error(fmt::format(
        "{}::backward: the tape comes from a forward outside training (set_training(false)), "
        "which keeps no workspace; call set_training(true) before the forward",
        spec_.name));
  }
  Tensor diff_dst, diff_src, layer_diff_hT, layer_diff_cT, layer_diff_h0, layer_diff_c0;
  output_dropout_.backward(diff_y, tape.output_mask, diff_dst);
  diff_h0.reset({layers * d, batch, h});
  if (c) diff_c0.reset({layers * d, batch, h});
  for (int64_t l = layers - 1; l >= 0; --l) {
    const RecurrentLayerTape& lt = tape.layers[l];
    take_rows(diff_hT, l * d, d, batch, h, layer_diff_hT);
    if (c) take_rows(diff_cT, l * d, d, batch, h, layer_diff_cT);
    backward_layer(l, lt, diff_dst, layer_diff_hT, layer_diff_cT, diff_src, layer_diff_h0,
                   layer_diff_c0);
    put_rows(layer_diff_h0, l * d, diff_h0);
    if (c) put_rows(layer_diff_c0, l * d, diff_c0);
    if (l > 0) {
      between_dropout_.backward(diff_src, lt.input_mask, diff_dst);
    } else {
      input_dropout_.backward(diff_src, lt.input_mask, diff_x);
    }
  }
}

void Recurrent::forward(const Tensor& x, const Tensor& h0, const Tensor& c0, Tensor& y, Tensor& hT,
                        Tensor& cT, RecurrentTape& tape) {
  if (x.rank() != 3 || x.dim(2) != spec_.options.input_size || x.dim(0) == 0 || x.dim(1) == 0) {
    throw Error(fmt::format("{}::forward: x has shape [{}], expected [T, B, {}] with T, B > 0",
                            spec_.name, fmt::join(x.dims(), ", "), spec_.options.input_size));
  }
  const std::vector<int64_t> state_dims{state_rows(), x.dim(1), spec_.options.hidden_size};
  check_dims(h0, state_dims, "h0", true);
  if (spec_.cell_state) check_dims(c0, state_dims, "c0", true);
  for (auto& s : layer_states_)
    s->fwd_weights_ready = false;
  run_layers(x, h0, c0, y, hT, cT, tape, x.dim(0), x.dim(1));
}

void Recurrent::backward(const RecurrentTape& tape, const Tensor& diff_y, const Tensor& diff_hT,
                         const Tensor& diff_cT, Tensor& diff_x, Tensor& diff_h0, Tensor& diff_c0) {
  check_dims(diff_y, {tape.steps, tape.batch, output_size()}, "diff_y", false);
  const std::vector<int64_t> state_dims{state_rows(), tape.batch, spec_.options.hidden_size};
  check_dims(diff_hT, state_dims, "diff_hT", true);
  if (spec_.cell_state) check_dims(diff_cT, state_dims, "diff_cT", true);
  for (auto& s : layer_states_)
    s->bwd_weights_ready = false;
  backward_layers(tape, diff_y, diff_hT, diff_cT, diff_x, diff_h0, diff_c0);
  flush_weight_grads();
}

void Recurrent::forward(const Tensor& x, const Tensor& h0, Tensor& y, Tensor& hT,
                        RecurrentTape& tape) {
  Tensor no_c;
  forward(x, h0, Tensor(), y, hT, no_c, tape);
}

void Recurrent::backward(const RecurrentTape& tape, const Tensor& diff_y, const Tensor& diff_hT,
                         Tensor& diff_x, Tensor& diff_h0) {
  Tensor no_c;
  backward(tape, diff_y, diff_hT, Tensor(), diff_x, diff_h0, no_c);
}

void Recurrent::begin_steps() {
  if (spec_.options.bidirectional) {
    throw UsageError(
        fmt::format("{}: step mode needs a unidirectional {} (a bidirectional one reads the "
                    "whole sequence)",
                    spec_.name, spec_.torch_name));
  }
  for (auto& s : layer_states_) {
    s->fwd_weights_ready = false;
    s->bwd_weights_ready = false;
  }
}

void Recurrent::step_forward(const Tensor& x_t, const Tensor& h_in, const Tensor& c_in, Tensor& y_t,
                             Tensor& h_out, Tensor& c_out, RecurrentTape& tape) {
  if (spec_.options.bidirectional) {
    throw UsageError(fmt::format("{}::step_forward: step mode needs a unidirectional {}",
                                 spec_.name, spec_.torch_name));
  }
  if (x_t.rank() != 2 || x_t.dim(1) != spec_.options.input_size || x_t.dim(0) == 0) {
    throw Error(fmt::format("{}::step_forward: x_t has shape [{}], expected [B, {}]", spec_.name,
                            fmt::join(x_t.dims(), ", "), spec_.options.input_size));
  }
  const int64_t batch = x_t.dim(0), h = spec_.options.hidden_size;
  const std::vector<int64_t> state_dims{spec_.options.layers, batch, h};
  check_dims(h_in, state_dims, "h_in", true);
  if (spec_.cell_state) check_dims(c_in, state_dims, "c_in", true);
  Tensor x({1, batch, spec_.options.input_size});
  std::copy_n(x_t.data(), x_t.numel(), x.data());
  Tensor y;
  run_layers(x, h_in, c_in, y, h_out, c_out, tape, 1, batch);
  y_t.reset({batch, h});
  std::copy_n(y.data(), y.numel(), y_t.data());
}

void Recurrent::step_backward(const RecurrentTape& tape, const Tensor& diff_y_t,
                              const Tensor& diff_h_out, const Tensor& diff_c_out, Tensor& diff_x_t,
                              Tensor& diff_h_in, Tensor& diff_c_in) {
  const int64_t batch = tape.batch, h = spec_.options.hidden_size;
  if (tape.steps != 1) {
    throw Error(fmt::format("{}::step_backward: the tape is not from step_forward", spec_.name));
  }
  check_dims(diff_y_t, {batch, h}, "diff_y_t", false);
  const std::vector<int64_t> state_dims{spec_.options.layers, batch, h};
  check_dims(diff_h_out, state_dims, "diff_h_out", true);
  if (spec_.cell_state) check_dims(diff_c_out, state_dims, "diff_c_out", true);
  Tensor diff_y({1, batch, h});
  std::copy_n(diff_y_t.data(), diff_y_t.numel(), diff_y.data());
  Tensor diff_x;
  backward_layers(tape, diff_y, diff_h_out, diff_c_out, diff_x, diff_h_in, diff_c_in);
  diff_x_t.reset({batch, spec_.options.input_size});
  std::copy_n(diff_x.data(), diff_x.numel(), diff_x_t.data());
}

void Recurrent::step_forward(const Tensor& x_t, const Tensor& h_in, Tensor& y_t, Tensor& h_out,
                             RecurrentTape& tape) {
  Tensor no_c;
  step_forward(x_t, h_in, Tensor(), y_t, h_out, no_c, tape);
}

void Recurrent::step_backward(const RecurrentTape& tape, const Tensor& diff_y_t,
                              const Tensor& diff_h_out, Tensor& diff_x_t, Tensor& diff_h_in) {
  Tensor no_c;
  step_backward(tape, diff_y_t, diff_h_out, Tensor(), diff_x_t, diff_h_in, no_c);
}

void Recurrent::end_step_backward() {
  flush_weight_grads();
}

std::vector<std::pair<std::string, Tensor>> Recurrent::export_torch() const {
  std::vector<std::pair<std::string, Tensor>> state;
  const int64_t gh = spec_.gates * spec_.options.hidden_size, h = spec_.options.hidden_size;
  for (int64_t l = 0; l < spec_.options.layers; ++l) {
    const int64_t in = layer_input_size(l);
    for (int64_t d = 0; d < directions(); ++d) {
      const std::string suffix = fmt::format("_l{}{}", l, d == 1 ? "_reverse" : "");
      Tensor w_ih({gh, in}), w_hh({gh, h}), b_ih({gh}), b_hh({gh});
      std::copy_n(weights_ih_[l]->value.data() + d * gh * in, w_ih.numel(), w_ih.data());
      std::copy_n(weights_hh_[l]->value.data() + d * gh * h, w_hh.numel(), w_hh.data());
      std::copy_n(biases_[l]->value.data() + d * gh, b_ih.numel(), b_ih.data());
      if (spec_.split_bias) {
        std::copy_n(biases_hh_[l]->value.data() + d * gh, b_hh.numel(), b_hh.data());
      }
      state.emplace_back("weight_ih" + suffix, std::move(w_ih));
      state.emplace_back("weight_hh" + suffix, std::move(w_hh));
      state.emplace_back("bias_ih" + suffix, std::move(b_ih));
      state.emplace_back("bias_hh" + suffix, std::move(b_hh));
    }
  }
  return state;
}

void Recurrent::import_torch(const std::map<std::string, Tensor>& state) {
  const int64_t gh = spec_.gates * spec_.options.hidden_size, h = spec_.options.hidden_size;
  auto find = [&](const std::string& name, const std::vector<int64_t>& dims) -> const Tensor& {
    const auto it = state.find(name);
    if (it == state.end()) {
      throw InputError(fmt::format("{} weights: entry \"{}\" is missing", spec_.torch_name, name));
    }
    if (it->second.dims() != dims) {
      throw InputError(fmt::format("{} weights: \"{}\" has shape [{}], expected [{}]",
                                   spec_.torch_name, name, fmt::join(it->second.dims(), ", "),
                                   fmt::join(dims, ", ")));
    }
    return it->second;
  };
  for (int64_t l = 0; l < spec_.options.layers; ++l) {
    const int64_t in = layer_input_size(l);
    for (int64_t d = 0; d < directions(); ++d) {
      const std::string suffix = fmt::format("_l{}{}", l, d == 1 ? "_reverse" : "");
      const Tensor& w_ih = find("weight_ih" + suffix, {gh, in});
      const Tensor& w_hh = find("weight_hh" + suffix, {gh, h});
      const Tensor& b_ih = find("bias_ih" + suffix, {gh});
      const Tensor& b_hh = find("bias_hh" + suffix, {gh});
      std::copy_n(w_ih.data(), w_ih.numel(), weights_ih_[l]->value.data() + d * gh * in);
      std::copy_n(w_hh.data(), w_hh.numel(), weights_hh_[l]->value.data() + d * gh * h);
      float* b = biases_[l]->value.data() + d * gh;
      if (spec_.split_bias) {
        std::copy_n(b_ih.data(), b_ih.numel(), b);
        std::copy_n(b_hh.data(), b_hh.numel(), biases_hh_[l]->value.data() + d * gh);
      } else {
        for (int64_t i = 0; i < gh; ++i)
          b[i] = b_ih[i] + b_hh[i];
      }
    }
  }
}

}  // namespace cadenza
