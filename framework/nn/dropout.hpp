// Inverted dropout: y = x * m with m = 1/(1-p) where the uniform draw u >= p, else 0.
// The draws come from the counter-based RNG keyed by (seed, layer tag, training step); within a
// step every forward() call takes the next block range of that stream. A rerun of the same step
// with the same calls in the same order therefore draws bit-identical masks.
#pragma once

#include <cstdint>

#include "core/rng.hpp"
#include "core/tensor.hpp"
#include "nn/primitive_cache.hpp"

namespace cadenza {

class Dropout {
 public:
  // probability in [0, 1); tag distinguishes this dropout site from every other one in a model.
  Dropout(float probability, uint64_t tag);

  // Starts the mask stream of one training step.
  void set_step(uint64_t seed, uint64_t step);
  // Dropout acts only while training; in evaluation forward() is the identity.
  void set_training(bool training) { training_ = training; }
  bool active() const { return training_ && probability_ > 0.0f; }
  float probability() const { return probability_; }

  // x, y, mask: any shape, all the same. y may be x (in place). When inactive, y = x and mask is
  // left empty.
  void forward(const Tensor& x, Tensor& y, Tensor& mask);
  // diff_x = diff_y * mask (the mask of the matching forward call); diff_x may be diff_y.
  void backward(const Tensor& diff_y, const Tensor& mask, Tensor& diff_x);

 private:
  float probability_;
  uint64_t tag_;
  PhiloxKey key_;
  uint64_t next_block_ = 0;
  bool training_ = true;
  PrimitiveCache primitives_;
};

}  // namespace cadenza
