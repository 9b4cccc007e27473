// A dense f32 host tensor: row-major (last dimension contiguous), 64-byte aligned, owning its
// buffer. It is the currency between layers; oneDNN sees it through memory() / desc().
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <oneapi/dnnl/dnnl.hpp>
#include <span>
#include <vector>

namespace cadenza {

template <class T>
struct AlignedAllocator {
  using value_type = T;
  static constexpr std::align_val_t kAlignment{64};
  AlignedAllocator() = default;
  template <class U>
  AlignedAllocator(const AlignedAllocator<U>&) {}
  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), kAlignment)); }
  void deallocate(T* p, std::size_t) { ::operator delete(p, kAlignment); }
  template <class U>
  bool operator==(const AlignedAllocator<U>&) const {
    return true;
  }
};

class Tensor {
 public:
  Tensor() = default;
  // A zero-filled tensor of the given shape.
  explicit Tensor(std::vector<int64_t> dims);

  const std::vector<int64_t>& dims() const { return dims_; }
  int64_t dim(std::size_t axis) const { return dims_.at(axis); }
  std::size_t rank() const { return dims_.size(); }
  int64_t numel() const { return static_cast<int64_t>(data_.size()); }
  bool empty() const { return data_.empty(); }

  float* data() { return data_.data(); }
  const float* data() const { return data_.data(); }
  std::span<float> values() { return {data_.data(), data_.size()}; }
  std::span<const float> values() const { return {data_.data(), data_.size()}; }
  float& operator[](int64_t i) { return data_[static_cast<std::size_t>(i)]; }
  float operator[](int64_t i) const { return data_[static_cast<std::size_t>(i)]; }

  // Gives the tensor a new shape with every element 0 (the buffer is reused when large enough).
  void reset(std::vector<int64_t> dims);
  void fill(float value);
  void zero() { fill(0.0f); }

  // The oneDNN view: f32, plain row-major strides, over this buffer (no copy).
  dnnl::memory::desc desc() const;
  dnnl::memory memory() const;

 private:
  std::vector<int64_t> dims_;
  std::vector<float, AlignedAllocator<float>> data_;
};

// Number of elements of a shape; throws cadenza::Error on a negative dimension.
int64_t element_count(const std::vector<int64_t>& dims);

// A oneDNN memory over a caller-owned buffer (no copy). oneDNN takes non-const handles; the
// primitives we pass const buffers to only read them.
dnnl::memory wrap_memory(const dnnl::memory::desc& desc, const void* buffer);

}  // namespace cadenza
