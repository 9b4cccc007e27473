#include "nn/rnn.hpp"

#include "core/engine.hpp"

namespace cadenza {

namespace {

RecurrentSpec rnn_spec(const RnnOptions& o) {
  return {.name = "Rnn",
          .torch_name = "RNN",
          .gates = 1,
          .bias_rows = 1,
          .cell_state = false,
          .split_bias = false,
          .init_tag = 0x7a9,
          .input_size = o.input_size,
          .hidden_size = o.hidden_size,
          .layers = o.layers,
          .bidirectional = o.bidirectional,
          .input_dropout = o.input_dropout,
          .between_dropout = o.between_dropout,
          .output_dropout = o.output_dropout,
          .precision = o.precision,
          .rng_tag = o.rng_tag};
}

}  // namespace

class Rnn::Cell : public Recurrent {
 public:
  explicit Cell(const RnnOptions& options)
      : Recurrent(rnn_spec(options)),
        activation_(options.activation == RnnActivation::tanh ? dnnl::algorithm::eltwise_tanh
                                                              : dnnl::algorithm::eltwise_relu) {}

 protected:
  // One gate, so PyTorch's W_ih, W_hh are oneDNN's ldgoi and the summed b [D, H] is its bias
  // {1, D, 1, H}: the shared reorders and bias serve unchanged.
  void create(const Descs& s, Primitives& p) const override {
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

 private:
  dnnl::algorithm activation_;  // eltwise_tanh, or eltwise_relu with alpha 0
};

Rnn::Rnn(const RnnOptions& options) : options_(options), cell_(std::make_unique<Cell>(options)) {}

Rnn::~Rnn() = default;

std::vector<Parameter*> Rnn::parameters() {
  return cell_->parameters();
}

void Rnn::init(uint64_t seed) {
  cell_->init(seed);
}

void Rnn::set_dropout_step(uint64_t seed, uint64_t step) {
  cell_->set_dropout_step(seed, step);
}

void Rnn::set_training(bool training) {
  cell_->set_training(training);
}

void Rnn::forward(const Tensor& x, const Tensor& h0, Tensor& y, Tensor& hT, RnnTape& tape) {
  Tensor no_c;
  cell_->forward(x, h0, Tensor(), y, hT, no_c, tape);
}

void Rnn::backward(const RnnTape& tape, const Tensor& diff_y, const Tensor& diff_hT, Tensor& diff_x,
                   Tensor& diff_h0) {
  Tensor no_c;
  cell_->backward(tape, diff_y, diff_hT, Tensor(), diff_x, diff_h0, no_c);
}

void Rnn::begin_steps() {
  cell_->begin_steps();
}

void Rnn::step_forward(const Tensor& x_t, const Tensor& h_in, Tensor& y_t, Tensor& h_out,
                       RnnTape& tape) {
  Tensor no_c;
  cell_->step_forward(x_t, h_in, Tensor(), y_t, h_out, no_c, tape);
}

void Rnn::step_backward(const RnnTape& tape, const Tensor& diff_y_t, const Tensor& diff_h_out,
                        Tensor& diff_x_t, Tensor& diff_h_in) {
  Tensor no_c;
  cell_->step_backward(tape, diff_y_t, diff_h_out, Tensor(), diff_x_t, diff_h_in, no_c);
}

void Rnn::end_step_backward() {
  cell_->end_step_backward();
}

std::vector<std::pair<std::string, Tensor>> Rnn::export_torch() const {
  return cell_->export_torch();
}

void Rnn::import_torch(const std::map<std::string, Tensor>& state) {
  cell_->import_torch(state);
}

}  // namespace cadenza
