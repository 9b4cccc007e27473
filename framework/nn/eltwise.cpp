#include "nn/eltwise.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.hpp"

namespace cadenza {

Activation parse_activation(std::string_view text, std::string_view key) {
  if (text == "tanh") return Activation::tanh;
  if (text == "sigmoid") return Activation::sigmoid;
  if (text == "relu") return Activation::relu;
  throw ConfigError(
      fmt::format("{} = \"{}\": valid values are \"tanh\", \"sigmoid\", \"relu\"", key, text));
}

dnnl::algorithm Eltwise::algorithm() const {
  switch (activation_) {
    case Activation::tanh:
      return dnnl::algorithm::eltwise_tanh_use_dst_for_bwd;
    case Activation::sigmoid:
      return dnnl::algorithm::eltwise_logistic_use_dst_for_bwd;
    case Activation::relu:
      return dnnl::algorithm::eltwise_relu_use_dst_for_bwd;
  }
  throw Error("Eltwise: unknown activation");
}

void Eltwise::forward(const Tensor& x, Tensor& y) {
  if (&y != &x) y.reset(x.dims());
  if (x.empty()) return;
  primitives_.eltwise_forward(algorithm(), x.memory(), y.memory());
}

void Eltwise::backward(const Tensor& y, const Tensor& diff_y, Tensor& diff_x) {
  if (y.dims() != diff_y.dims()) {
    throw Error(fmt::format("Eltwise::backward: y [{}] and diff_y [{}] differ in shape",
                            fmt::join(y.dims(), ", "), fmt::join(diff_y.dims(), ", ")));
  }
  if (&diff_x != &diff_y) diff_x.reset(y.dims());
  if (y.empty()) return;
  primitives_.eltwise_backward(algorithm(), diff_y.memory(), y.memory(), diff_x.memory());
}

}  // namespace cadenza
