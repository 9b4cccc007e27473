#include "nn/lstm.hpp"

#include "core/engine.hpp"

namespace cadenza {

Lstm::Lstm(const LstmOptions& options)
    : Recurrent({.name = "Lstm",
                 .torch_name = "LSTM",
                 .gates = 4,
                 .bias_rows = 4,
                 .cell_state = true,
                 .forget_gate = 1,
                 .init_tag = 0x1a17,
                 .options = options}) {}

// PyTorch's gate order i, f, g, o is oneDNN's, and its summed bias b [D, 4H] is oneDNN's [D, 4,
// H]: the shared ldgoi reorders and bias serve unchanged.
void Lstm::create(const Descs& s, Primitives& p) const {
  dnnl::lstm_forward::desc fwd_desc(dnnl::prop_kind::forward_training, s.direction, s.src,
                                    s.src_iter, s.src_iter_c, s.weights_layer, s.weights_iter,
                                    s.bias, s.dst, s.src_iter, s.src_iter_c);
  const dnnl::lstm_forward::primitive_desc fwd_pd(fwd_desc, user_scratchpad_attr(), cpu_engine());
  dnnl::lstm_backward::desc bwd_desc(
      dnnl::prop_kind::backward, s.direction, s.src, s.src_iter, s.src_iter_c, s.weights_layer,
      s.weights_iter, s.bias, s.dst, s.src_iter, s.src_iter_c, s.diff_src, s.diff_iter, s.diff_iter,
      s.diff_weights_layer, s.diff_weights_iter, s.bias, s.diff_dst, s.diff_iter, s.diff_iter);
  const dnnl::lstm_backward::primitive_desc bwd_pd(bwd_desc, user_scratchpad_attr(), cpu_engine(),
                                                   fwd_pd);
  p.fwd_pd = fwd_pd;
  p.fwd = dnnl::lstm_forward(fwd_pd);
  p.bwd_pd = bwd_pd;
  p.bwd = dnnl::lstm_backward(bwd_pd);
}

dnnl::rnn_primitive_desc_base Lstm::create_inference(const Descs& s) const {
  dnnl::lstm_forward::desc desc(dnnl::prop_kind::forward_inference, s.direction, s.src, s.src_iter,
                                s.src_iter_c, s.weights_layer, s.weights_iter, s.bias, s.dst,
                                s.src_iter, s.src_iter_c);
  return dnnl::lstm_forward::primitive_desc(desc, user_scratchpad_attr(), cpu_engine());
}

}  // namespace cadenza
