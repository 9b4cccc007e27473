// Affine layer y = x W^T + b on oneDNN matmul. W is [out, in] as in PyTorch's nn.Linear and is
// read transposed through a strided descriptor (no copy). Leading dimensions of x are flattened:
// x [..., in] -> y [..., out], so time-major sequences [T, B, in] go through in one matmul.
// With Precision::bf16 the products take bf16 copies of x, W and diff_y and write f32.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/tensor.hpp"
#include "nn/parameter.hpp"
#include "nn/precision.hpp"
#include "nn/primitive_cache.hpp"

namespace cadenza {

class Linear {
 public:
  Linear(int64_t in_features, int64_t out_features, bool bias,
         Precision precision = Precision::f32);

  int64_t in_features() const { return in_; }
  int64_t out_features() const { return out_; }
  // "W" [out, in] and, with a bias, "b" [out].
  std::vector<Parameter*> parameters();
  // PyTorch's default: uniform in [-1/sqrt(in), 1/sqrt(in)) for W and b.
  void init(uint64_t seed, uint64_t tag);

  // x [..., in] -> y [..., out]
  void forward(const Tensor& x, Tensor& y);
  // x [..., in] (the forward input), diff_y [..., out] -> diff_x [..., in] (overwritten);
  // dW += diff_y^T x, db += column sums of diff_y.
  void backward(const Tensor& x, const Tensor& diff_y, Tensor& diff_x);
  // The same without diff_x, for a layer whose input needs no gradient (the model's frames).
  void backward_weights(const Tensor& x, const Tensor& diff_y);

 private:
  int64_t rows_of(const Tensor& t, int64_t width, const char* what) const;
  // The rows n of x [..., in] and diff_y [..., out]; throws when they differ.
  int64_t check_backward_rows(const Tensor& x, const Tensor& diff_y) const;
  // dW += diff_y^T x and db += column sums of diff_y, from the compute-type buffers dy [n, out]
  // and src [n, in] (diff_y itself, f32, for the bias).
  void accumulate_weight_grads(int64_t n, const void* dy, const void* src, const Tensor& diff_y);
  // The tensor's values in the compute type: its own buffer in f32, a bf16 copy otherwise.
  const void* compute_buffer(const Tensor& t, dnnl::memory& low);
  // A [rows, cols] compute-type view of `buffer` with the given strides.
  dnnl::memory view(int64_t rows, int64_t cols, int64_t row_stride, int64_t col_stride,
                    const void* buffer) const;

  int64_t in_, out_;
  Precision precision_;
  Parameter weight_;
  std::unique_ptr<Parameter> bias_;
  Tensor ones_;  // [1, N] for the bias gradient as a matmul
  dnnl::memory x_low_, w_low_, dy_low_;
  PrimitiveCache primitives_;
};

}  // namespace cadenza
