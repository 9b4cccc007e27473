#include "nn/linear.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>

#include "core/engine.hpp"
#include "core/error.hpp"

namespace cadenza {

using dnnl::memory;
using dt = dnnl::memory::data_type;

Linear::Linear(int64_t in_features, int64_t out_features, bool bias, Precision precision)
    : in_(in_features),
      out_(out_features),
      precision_(precision),
      weight_("W", {out_features, in_features}) {
  if (in_features <= 0 || out_features <= 0) {
    throw ConfigError(fmt::format("Linear: in_features {} and out_features {} must be positive",
                                  in_features, out_features));
  }
  if (bias) bias_ = std::make_unique<Parameter>("b", std::vector<int64_t>{out_features});
}

std::vector<Parameter*> Linear::parameters() {
  std::vector<Parameter*> all{&weight_};
  if (bias_) all.push_back(bias_.get());
  return all;
}

void Linear::init(uint64_t seed, uint64_t tag) {
  const float bound = 1.0f / std::sqrt(static_cast<float>(in_));
  init_uniform(weight_, bound, derive_key(seed, tag, 0));
  if (bias_) init_uniform(*bias_, bound, derive_key(seed, tag, 1));
}

int64_t Linear::rows_of(const Tensor& t, int64_t width, const char* what) const {
  if (t.rank() == 0 || t.dims().back() != width) {
    throw Error(fmt::format("Linear({} -> {}): {} has shape [{}], expected [..., {}]", in_, out_,
                            what, fmt::join(t.dims(), ", "), width));
  }
  return t.numel() / width;
}

const void* Linear::compute_buffer(const Tensor& t, memory& low) {
  if (precision_ == Precision::f32) return t.data();
  const memory::desc low_desc = plain_desc({t.numel()}, dt::bf16);
  if (!low || low.get_desc() != low_desc) low = memory(low_desc, cpu_engine());
  primitives_.reorder(wrap_memory(plain_desc({t.numel()}, dt::f32), t.data()), low);
  return low.get_data_handle();
}

memory Linear::view(int64_t rows, int64_t cols, int64_t row_stride, int64_t col_stride,
                    const void* buffer) const {
  return wrap_memory(memory::desc({rows, cols}, compute_type(precision_), {row_stride, col_stride}),
                     buffer);
}

void Linear::forward(const Tensor& x, Tensor& y) {
  const int64_t n = rows_of(x, in_, "x");
  std::vector<int64_t> y_dims = x.dims();
  y_dims.back() = out_;
  y.reset(y_dims);
  const memory src = view(n, in_, in_, 1, compute_buffer(x, x_low_));
  // W [out, in] read as [in, out].
  const memory weights = view(in_, out_, 1, in_, compute_buffer(weight_.value, w_low_));
  const memory dst = wrap_memory(plain_desc({n, out_}, dt::f32), y.data());
  if (bias_) {
    const memory bias = wrap_memory(plain_desc({1, out_}, dt::f32), bias_->value.data());
    primitives_.matmul(src, weights, dst, 1.0f, false, &bias);
  } else {
    primitives_.matmul(src, weights, dst);
  }
}

void Linear::backward(const Tensor& x, const Tensor& diff_y, Tensor& diff_x) {
  const int64_t n = check_backward_rows(x, diff_y);
  const void* dy = compute_buffer(diff_y, dy_low_);
  accumulate_weight_grads(n, dy, compute_buffer(x, x_low_), diff_y);
  diff_x.reset(x.dims());
  // diff_x [n, in] = diff_y [n, out] x W [out, in]
  primitives_.matmul(view(n, out_, out_, 1, dy),
                     view(out_, in_, in_, 1, compute_buffer(weight_.value, w_low_)),
                     wrap_memory(plain_desc({n, in_}, dt::f32), diff_x.data()));
}

void Linear::backward_weights(const Tensor& x, const Tensor& diff_y) {
  const int64_t n = check_backward_rows(x, diff_y);
  accumulate_weight_grads(n, compute_buffer(diff_y, dy_low_), compute_buffer(x, x_low_), diff_y);
}

int64_t Linear::check_backward_rows(const Tensor& x, const Tensor& diff_y) const {
  const int64_t n = rows_of(x, in_, "x");
  if (rows_of(diff_y, out_, "diff_y") != n) {
    throw Error(fmt::format("Linear::backward: x [{}] and diff_y [{}] disagree on rows",
                            fmt::join(x.dims(), ", "), fmt::join(diff_y.dims(), ", ")));
  }
  return n;
}

void Linear::accumulate_weight_grads(int64_t n, const void* dy, const void* src,
                                     const Tensor& diff_y) {
  // dW [out, in] += diff_y^T [out, n] x x [n, in]
  primitives_.matmul(view(out_, n, 1, out_, dy), view(n, in_, in_, 1, src),
                     wrap_memory(plain_desc({out_, in_}, dt::f32), weight_.grad.data()), 1.0f,
                     true);
  if (bias_) {
    // db [1, out] += ones [1, n] x diff_y [n, out]
    if (ones_.numel() != n) {
      ones_.reset({1, n});
      ones_.fill(1.0f);
    }
    primitives_.matmul(ones_.memory(), wrap_memory(plain_desc({n, out_}, dt::f32), diff_y.data()),
                       wrap_memory(plain_desc({1, out_}, dt::f32), bias_->grad.data()), 1.0f, true);
  }
}

}  // namespace cadenza
