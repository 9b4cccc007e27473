#include "core/tensor.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "core/engine.hpp"
#include "core/error.hpp"

namespace cadenza {

int64_t element_count(const std::vector<int64_t>& dims) {
  int64_t count = 1;
  for (int64_t d : dims) {
    if (d < 0)
      throw Error(fmt::format("tensor shape [{}] has a negative dimension", fmt::join(dims, ", ")));
    count *= d;
  }
  return count;
}

Tensor::Tensor(std::vector<int64_t> dims) {
  reset(std::move(dims));
}

void Tensor::reset(std::vector<int64_t> dims) {
  const auto count = static_cast<std::size_t>(element_count(dims));
  dims_ = std::move(dims);
  data_.assign(count, 0.0f);
}

void Tensor::fill(float value) {
  std::fill(data_.begin(), data_.end(), value);
}

dnnl::memory::desc Tensor::desc() const {
  dnnl::memory::dims strides(dims_.size(), 1);
  for (std::size_t i = dims_.size(); i-- > 1;)
    strides[i - 1] = strides[i] * dims_[i];
  return dnnl::memory::desc(dims_, dnnl::memory::data_type::f32, strides);
}

dnnl::memory Tensor::memory() const {
  return wrap_memory(desc(), data());
}

dnnl::memory wrap_memory(const dnnl::memory::desc& desc, const void* buffer) {
  return dnnl::memory(desc, cpu_engine(), const_cast<void*>(buffer));
}

}  // namespace cadenza
