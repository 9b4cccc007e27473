#include "nn/gru.hpp"

#include <algorithm>

#include "core/engine.hpp"

namespace cadenza {

using dnnl::memory;
using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

namespace {

// PyTorch's gate blocks r, z, n <-> oneDNN's u (= z), r, o (= n): src [D, 3H, K] -> dst
// [D, 3H, K] with the first two [H, K] blocks of every direction swapped (the map is its own
// inverse). Adds into dst when `add`.
void swap_update_reset(const float* src, float* dst, int64_t directions, int64_t hidden,
                       int64_t cols, bool add) {
  const int64_t block = hidden * cols;
  for (int64_t d = 0; d < directions; ++d) {
    for (int64_t g = 0; g < 3; ++g) {
      const float* from = src + (d * 3 + (g == 2 ? 2 : 1 - g)) * block;
      float* to = dst + (d * 3 + g) * block;
      if (add) {
        for (int64_t i = 0; i < block; ++i)
          to[i] += from[i];
      } else {
        std::copy_n(from, block, to);
      }
    }
  }
}

// b_ih, b_hh [D, 3H] (r, z, n) -> oneDNN's bias [D, 4H]: b_z, b_r summed, then b_in, b_hn.
void fold_bias(const float* b_ih, const float* b_hh, float* bias, int64_t directions,
               int64_t hidden) {
  const int64_t h = hidden;
  for (int64_t d = 0; d < directions; ++d) {
    const float* bi = b_ih + d * 3 * h;
    const float* bh = b_hh + d * 3 * h;
    float* b = bias + d * 4 * h;
    for (int64_t j = 0; j < h; ++j) {
      b[j] = bi[h + j] + bh[h + j];
      b[h + j] = bi[j] + bh[j];
      b[2 * h + j] = bi[2 * h + j];
      b[3 * h + j] = bh[2 * h + j];
    }
  }
}

// diff_bias [D, 4H] (oneDNN's rows) added into the gradients of b_ih and b_hh [D, 3H].
void unfold_bias_grad(const float* diff_bias, float* grad_ih, float* grad_hh, int64_t directions,
                      int64_t hidden) {
  const int64_t h = hidden;
  for (int64_t d = 0; d < directions; ++d) {
    const float* db = diff_bias + d * 4 * h;
    float* gi = grad_ih + d * 3 * h;
    float* gh = grad_hh + d * 3 * h;
    for (int64_t j = 0; j < h; ++j) {
      gi[j] += db[h + j];
      gh[j] += db[h + j];
      gi[h + j] += db[j];
      gh[h + j] += db[j];
      gi[2 * h + j] += db[2 * h + j];
      gh[2 * h + j] += db[3 * h + j];
    }
  }
}

}  // namespace

Gru::Gru(const GruOptions& options)
    : Recurrent({.name = "Gru",
                 .torch_name = "GRU",
                 .gates = 3,
                 .bias_rows = 4,
                 .split_bias = true,
                 .init_tag = 0x6a0,
                 .options = options}) {
  const int64_t d = directions(), h = spec_.options.hidden_size;
  for (int64_t l = 0; l < spec_.options.layers; ++l) {
    bias_.emplace_back(std::vector<int64_t>{d, 4 * h});
    swapped_ih_.emplace_back(std::vector<int64_t>{d, 3 * h, layer_input_size(l)});
    swapped_hh_.emplace_back(std::vector<int64_t>{d, 3 * h, h});
  }
}

void Gru::create(const Descs& s, Primitives& p) const {
  dnnl::lbr_gru_forward::desc fwd_desc(dnnl::prop_kind::forward_training, s.direction, s.src,
                                       s.src_iter, s.weights_layer, s.weights_iter, s.bias, s.dst,
                                       s.src_iter);
  const dnnl::lbr_gru_forward::primitive_desc fwd_pd(fwd_desc, user_scratchpad_attr(),
                                                     cpu_engine());
  dnnl::lbr_gru_backward::desc bwd_desc(dnnl::prop_kind::backward, s.direction, s.src, s.src_iter,
                                        s.weights_layer, s.weights_iter, s.bias, s.dst, s.src_iter,
                                        s.diff_src, s.diff_iter, s.diff_weights_layer,
                                        s.diff_weights_iter, s.bias, s.diff_dst, s.diff_iter);
  const dnnl::lbr_gru_backward::primitive_desc bwd_pd(bwd_desc, user_scratchpad_attr(),
                                                      cpu_engine(), fwd_pd);
  p.fwd_pd = fwd_pd;
  p.fwd = dnnl::lbr_gru_forward(fwd_pd);
  p.bwd_pd = bwd_pd;
  p.bwd = dnnl::lbr_gru_backward(bwd_pd);
}

dnnl::rnn_primitive_desc_base Gru::create_inference(const Descs& s) const {
  dnnl::lbr_gru_forward::desc desc(dnnl::prop_kind::forward_inference, s.direction, s.src,
                                   s.src_iter, s.weights_layer, s.weights_iter, s.bias, s.dst,
                                   s.src_iter);
  return dnnl::lbr_gru_forward::primitive_desc(desc, user_scratchpad_attr(), cpu_engine());
}

// W_ih, W_hh in PyTorch's gate order r, z, n -> oneDNN's u, r, o, then into the primitives'
// layouts.
void Gru::reorder_weights(int64_t layer, memory& layer_weights, memory& iter_weights) {
  const int64_t d = directions(), h = spec_.options.hidden_size, in = layer_input_size(layer);
  swap_update_reset(weights_ih_[layer]->value.data(), swapped_ih_[layer].data(), d, h, in, false);
  swap_update_reset(weights_hh_[layer]->value.data(), swapped_hh_[layer].data(), d, h, h, false);
  reorders_.reorder(
      wrap_memory(memory::desc({1, d, in, 3, h}, dt::f32, tag::ldgoi), swapped_ih_[layer].data()),
      layer_weights);
  reorders_.reorder(
      wrap_memory(memory::desc({1, d, h, 3, h}, dt::f32, tag::ldgoi), swapped_hh_[layer].data()),
      iter_weights);
}

// b_ih, b_hh [D, 3H] folded into oneDNN's [D, 4H].
const Tensor& Gru::primitive_bias(int64_t layer) {
  fold_bias(biases_[layer]->value.data(), biases_hh_[layer]->value.data(), bias_[layer].data(),
            directions(), spec_.options.hidden_size);
  return bias_[layer];
}

// The diff weights back to PyTorch's gate order, the diff bias unfolded into b_ih and b_hh.
void Gru::add_grads(int64_t layer, const memory& diff_weights_layer,
                    const memory& diff_weights_iter, const Tensor& diff_bias) {
  const int64_t d = directions(), h = spec_.options.hidden_size, in = layer_input_size(layer);
  reorders_.reorder(
      diff_weights_layer,
      wrap_memory(memory::desc({1, d, in, 3, h}, dt::f32, tag::ldgoi), swapped_ih_[layer].data()));
  reorders_.reorder(
      diff_weights_iter,
      wrap_memory(memory::desc({1, d, h, 3, h}, dt::f32, tag::ldgoi), swapped_hh_[layer].data()));
  swap_update_reset(swapped_ih_[layer].data(), weights_ih_[layer]->grad.data(), d, h, in, true);
  swap_update_reset(swapped_hh_[layer].data(), weights_hh_[layer]->grad.data(), d, h, h, true);
  unfold_bias_grad(diff_bias.data(), biases_[layer]->grad.data(), biases_hh_[layer]->grad.data(), d,
                   h);
}

}  // namespace cadenza
