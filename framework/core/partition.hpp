// Splitting n items into parts of balanced, contiguous ranges.
#pragma once

#include <algorithm>
#include <cstdint>

namespace cadenza {

// Items [first, first + count).
struct Part {
  int64_t first = 0;
  int64_t count = 0;
};

// Part `index` (0 <= index < parts) of n items: n / parts each, the first n % parts one more, in
// order; together the parts cover [0, n) exactly once.
inline Part balanced_part(int64_t n, int64_t index, int64_t parts) {
  const int64_t base = n / parts, extra = n % parts;
  return {index * base + std::min(index, extra), base + (index < extra ? 1 : 0)};
}

}  // namespace cadenza
