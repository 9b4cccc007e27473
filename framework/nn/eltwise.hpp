// Element-wise activations on oneDNN eltwise primitives: tanh, sigmoid, ReLU. Backward uses the
// forward OUTPUT (the *_use_dst_for_bwd algorithms), so the tape is y itself.
#pragma once

#include <string_view>

#include "core/tensor.hpp"
#include "nn/primitive_cache.hpp"

namespace cadenza {

enum class Activation { tanh, sigmoid, relu };

// Parses "tanh", "sigmoid" or "relu"; throws ConfigError naming `key` and the valid values.
Activation parse_activation(std::string_view text, std::string_view key);

class Eltwise {
 public:
  explicit Eltwise(Activation activation) : activation_(activation) {}
  Activation activation() const { return activation_; }

  // x [any] -> y [same]; y may be x.
  void forward(const Tensor& x, Tensor& y);
  // y (the forward output), diff_y [same] -> diff_x [same]; diff_x may be diff_y.
  void backward(const Tensor& y, const Tensor& diff_y, Tensor& diff_x);

 private:
  dnnl::algorithm algorithm() const;
  Activation activation_;
  PrimitiveCache primitives_;
};

}  // namespace cadenza
