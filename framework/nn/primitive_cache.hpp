// oneDNN primitives built once per (operation, memory descriptors, attributes) and reused: each
// layer owns one PrimitiveCache, so a new batch shape builds its primitives once and every later
// call with that shape only executes them. Every call runs on cpu_stream() and waits for it, with
// the calling thread's scratchpad.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>
#include <unordered_map>
#include <vector>

namespace cadenza {

// Row-major ("plain") descriptor of any data type.
dnnl::memory::desc plain_desc(const dnnl::memory::dims& dims, dnnl::memory::data_type type);

class PrimitiveCache {
 public:
  // dst = scale * (src x weights) [+ bias] [+ dst when accumulate].
  // src [M, K] or [Bt, M, K], weights [K, N] or [Bt, K, N], dst [M, N] or [Bt, M, N], bias
  // broadcast to dst ([1, N]). The descriptors carry the strides, so transposed views cost
  // nothing (e.g. a [N, K] buffer read as [K, N] with strides {1, K}).
  void matmul(const dnnl::memory& src, const dnnl::memory& weights, const dnnl::memory& dst,
              float scale = 1.0f, bool accumulate = false, const dnnl::memory* bias = nullptr);

  // dst = src (or dst += src when accumulate), converting layout and data type.
  void reorder(const dnnl::memory& src, const dnnl::memory& dst, bool accumulate = false);

  // dst = a (op) b; b broadcasts along its size-1 dimensions (same rank as a).
  void binary(dnnl::algorithm op, const dnnl::memory& a, const dnnl::memory& b,
              const dnnl::memory& dst);

  // dst = f(src) for an eltwise algorithm (alpha as oneDNN defines it per algorithm).
  void eltwise_forward(dnnl::algorithm op, const dnnl::memory& src, const dnnl::memory& dst,
                       float alpha = 0.0f);
  // diff_src = f'(.) * diff_dst; `data` is the forward dst for the *_use_dst_for_bwd algorithms
  // and the forward src otherwise.
  void eltwise_backward(dnnl::algorithm op, const dnnl::memory& diff_dst, const dnnl::memory& data,
                        const dnnl::memory& diff_src, float alpha = 0.0f);

  // Softmax (or log-softmax when log is true) over `axis`.
  void softmax_forward(const dnnl::memory& src, const dnnl::memory& dst, int axis,
                       bool log = false);
  // diff_src of a softmax given its forward dst.
  void softmax_backward(const dnnl::memory& diff_dst, const dnnl::memory& dst,
                        const dnnl::memory& diff_src, int axis);

  // dst = the sources joined along `axis` (dst's descriptor gives the full shape).
  void concat(const std::vector<dnnl::memory>& sources, const dnnl::memory& dst, int axis);

  std::size_t size() const { return entries_.size(); }

 private:
  enum class Op {
    matmul,
    reorder,
    binary,
    eltwise_fwd,
    eltwise_bwd,
    softmax_fwd,
    softmax_bwd,
    concat
  };
  struct Entry {
    Op op;
    std::vector<dnnl::memory::desc> descs;
    std::vector<float> params;
    dnnl::primitive primitive;
    dnnl::memory scratchpad;  // empty when the primitive needs none
  };
  // The cached entry for (op, descs, params), built by make() on first use. Every primitive is
  // created with user_scratchpad_attr() (core/engine.hpp).
  template <class Make>
  Entry& get(Op op, std::vector<dnnl::memory::desc> descs, std::vector<float> params, Make&& make);
  // Executes the entry with `args` plus its scratchpad, then waits.
  static void run(Entry& entry, std::unordered_map<int, dnnl::memory> args);

  std::vector<Entry> entries_;
};

}  // namespace cadenza
