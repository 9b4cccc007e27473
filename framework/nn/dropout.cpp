#include "nn/dropout.hpp"

#include <fmt/format.h>

#include "core/error.hpp"

namespace cadenza {

Dropout::Dropout(float probability, uint64_t tag)
    : probability_(probability), tag_(tag), key_(derive_key(0, tag)) {
  if (!(probability >= 0.0f && probability < 1.0f)) {
    throw ConfigError(fmt::format("dropout probability {} is outside [0, 1)", probability));
  }
}

void Dropout::set_step(uint64_t seed, uint64_t step) {
  key_ = derive_key(seed, tag_, step);
  next_block_ = 0;
}

void Dropout::forward(const Tensor& x, Tensor& y, Tensor& mask) {
  if (!active()) {
    if (&y != &x) y = x;
    mask = Tensor();
    return;
  }
  const auto n = static_cast<uint64_t>(x.numel());
  mask.reset(x.dims());
  uniform_fill(key_, next_block_, mask.data(), n);
  next_block_ += (n + 3) / 4;
  // Locals, not members, so that the compiler knows the stores cannot change them and
  // vectorises the threshold into compares and blends.
  const float probability = probability_;
  const float keep_scale = 1.0f / (1.0f - probability);
  for (float& m : mask.values())
    m = m >= probability ? keep_scale : 0.0f;
  if (&y != &x) y.reset(x.dims());
  primitives_.binary(dnnl::algorithm::binary_mul, x.memory(), mask.memory(), y.memory());
}

void Dropout::backward(const Tensor& diff_y, const Tensor& mask, Tensor& diff_x) {
  if (mask.empty()) {
    if (&diff_x != &diff_y) diff_x = diff_y;
    return;
  }
  if (mask.dims() != diff_y.dims()) {
    throw Error("Dropout::backward: the gradient's shape differs from the forward mask's");
  }
  if (&diff_x != &diff_y) diff_x.reset(diff_y.dims());
  primitives_.binary(dnnl::algorithm::binary_mul, diff_y.memory(), mask.memory(), diff_x.memory());
}

}  // namespace cadenza
