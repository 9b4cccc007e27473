#include "nn/concat.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.hpp"

namespace cadenza {

using dnnl::memory;
using dt = dnnl::memory::data_type;

void Concat::forward(const std::vector<const Tensor*>& parts, Tensor& y) {
  if (parts.empty()) throw Error("Concat::forward: no parts");
  std::vector<int64_t> dims = parts[0]->dims();
  if (dims.empty()) throw Error("Concat::forward: parts must have at least one dimension");
  const int64_t rows = parts[0]->numel() / std::max<int64_t>(1, dims.back());
  int64_t total = 0;
  std::vector<memory> sources;
  for (const Tensor* p : parts) {
    std::vector<int64_t> leading = p->dims(), expected = dims;
    leading.pop_back();
    expected.pop_back();
    if (p->rank() != dims.size() || leading != expected) {
      throw Error(fmt::format("Concat::forward: part [{}] does not match [{}] before the last axis",
                              fmt::join(p->dims(), ", "), fmt::join(dims, ", ")));
    }
    sources.push_back(wrap_memory(plain_desc({rows, p->dims().back()}, dt::f32), p->data()));
    total += p->dims().back();
  }
  dims.back() = total;
  y.reset(dims);
  primitives_.concat(sources, wrap_memory(plain_desc({rows, total}, dt::f32), y.data()), 1);
}

void Concat::backward(const Tensor& diff_y, const std::vector<int64_t>& widths,
                      const std::vector<Tensor*>& diff_parts) {
  int64_t total = 0;
  for (int64_t w : widths)
    total += w;
  if (diff_y.rank() == 0 || diff_y.dims().back() != total || widths.size() != diff_parts.size()) {
    throw Error(fmt::format("Concat::backward: diff_y [{}] does not split into widths [{}]",
                            fmt::join(diff_y.dims(), ", "), fmt::join(widths, ", ")));
  }
  const int64_t rows = diff_y.numel() / total;
  int64_t offset = 0;
  for (std::size_t k = 0; k < widths.size(); ++k) {
    std::vector<int64_t> dims = diff_y.dims();
    dims.back() = widths[k];
    diff_parts[k]->reset(dims);
    const memory::desc slice({rows, widths[k]}, dt::f32, {total, 1});
    primitives_.reorder(wrap_memory(slice, diff_y.data() + offset),
                        wrap_memory(plain_desc({rows, widths[k]}, dt::f32), diff_parts[k]->data()));
    offset += widths[k];
  }
}

}  // namespace cadenza
