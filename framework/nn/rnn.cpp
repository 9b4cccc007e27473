#include "nn/rnn.hpp"

#include "core/engine.hpp"

namespace cadenza {

Rnn::Rnn(const RnnOptions& options)
    : Recurrent({.name = "Rnn",
                 .torch_name = "RNN",
                 .gates = 1,
                 .bias_rows = 1,
                 .init_tag = 0x7a9,
                 .options = options}),
      activation_(options.activation == RnnActivation::tanh ? dnnl::algorithm::eltwise_tanh
                                                            : dnnl::algorithm::eltwise_relu) {}

// One gate, so PyTorch's W_ih, W_hh are oneDNN's ldgoi and the summed b [D, H] is its bias
// {1, D, 1, H}: the shared reorders and bias serve unchanged.
void Rnn::create(const Descs& s, Primitives& p) const {
  dnnl::vanilla_rnn_forward::desc fwd_desc(dnnl::prop_kind::forward_training, activation_,
                                           s.direction, s.src, s.src_iter, s.weights_layer,
                                           s.weights_iter, s.bias, s.dst, s.src_iter);
  const dnnl::vanilla_rnn_forward::primitive_desc fwd_pd(fwd_desc, user_scratchpad_attr(),
                                                         cpu_engine());
  dnnl::vanilla_rnn_backward::desc bwd_desc(
      dnnl::prop_kind::backward, activation_, s.direction, s.src, s.src_iter, s.weights_layer,
      s.weights_iter, s.bias, s.dst, s.src_iter, s.diff_src, s.diff_iter, s.diff_weights_layer,
      s.diff_weights_iter, s.bias, s.diff_dst, s.diff_iter);
  const dnnl::vanilla_rnn_backward::primitive_desc bwd_pd(bwd_desc, user_scratchpad_attr(),
                                                          cpu_engine(), fwd_pd);
  p.fwd_pd = fwd_pd;
  p.fwd = dnnl::vanilla_rnn_forward(fwd_pd);
  p.bwd_pd = bwd_pd;
  p.bwd = dnnl::vanilla_rnn_backward(bwd_pd);
}

dnnl::rnn_primitive_desc_base Rnn::create_inference(const Descs& s) const {
  dnnl::vanilla_rnn_forward::desc desc(dnnl::prop_kind::forward_inference, activation_, s.direction,
                                       s.src, s.src_iter, s.weights_layer, s.weights_iter, s.bias,
                                       s.dst, s.src_iter);
  return dnnl::vanilla_rnn_forward::primitive_desc(desc, user_scratchpad_attr(), cpu_engine());
}

}  // namespace cadenza
