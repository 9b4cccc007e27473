// Concatenation along the last dimension on oneDNN's concat primitive; backward splits the
// gradient back into the parts with strided reorders.
#pragma once

#include <vector>

#include "core/tensor.hpp"
#include "nn/primitive_cache.hpp"

namespace cadenza {

class Concat {
 public:
  // parts [..., C_k] (same leading dimensions) -> y [..., sum C_k]
  void forward(const std::vector<const Tensor*>& parts, Tensor& y);
  // diff_y [..., sum C_k] -> diff_parts[k] [..., C_k], widths C_k as in the forward.
  void backward(const Tensor& diff_y, const std::vector<int64_t>& widths,
                const std::vector<Tensor*>& diff_parts);

 private:
  PrimitiveCache primitives_;
};

}  // namespace cadenza
