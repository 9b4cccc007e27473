#include "nn/lstm.hpp"

#include "core/engine.hpp"

namespace cadenza {

Lstm::Lstm(const LstmOptions& options)
    : Recurrent(with_options({.name = "Lstm",
                              .torch_name = "LSTM",
                              .gates = 4,
                              .bias_rows = 4,
                              .cell_state = true,
                              .init_tag = 0x1a17},
                             options)),
      options_(options) {}

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

void Lstm::forward(const Tensor& x, const Tensor& h0, const Tensor& c0, Tensor& y, Tensor& hT,
                   Tensor& cT, LstmTape& tape) {
  forward_with_c(x, h0, c0, y, hT, cT, tape);
}

void Lstm::backward(const LstmTape& tape, const Tensor& diff_y, const Tensor& diff_hT,
                    const Tensor& diff_cT, Tensor& diff_x, Tensor& diff_h0, Tensor& diff_c0) {
  backward_with_c(tape, diff_y, diff_hT, diff_cT, diff_x, diff_h0, diff_c0);
}

void Lstm::step_forward(const Tensor& x_t, const Tensor& h_in, const Tensor& c_in, Tensor& y_t,
                        Tensor& h_out, Tensor& c_out, LstmTape& tape) {
  step_forward_with_c(x_t, h_in, c_in, y_t, h_out, c_out, tape);
}

void Lstm::step_backward(const LstmTape& tape, const Tensor& diff_y_t, const Tensor& diff_h_out,
                         const Tensor& diff_c_out, Tensor& diff_x_t, Tensor& diff_h_in,
                         Tensor& diff_c_in) {
  step_backward_with_c(tape, diff_y_t, diff_h_out, diff_c_out, diff_x_t, diff_h_in, diff_c_in);
}

}  // namespace cadenza
