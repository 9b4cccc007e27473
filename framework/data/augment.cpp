#include "data/augment.hpp"

#include <algorithm>

namespace cadenza {

int draw_transpose(PhiloxKey sample_key, int max_transpose) {
  if (max_transpose == 0) return 0;
  CounterRng rng(sample_key);
  const auto choices = static_cast<uint64_t>(2 * max_transpose + 1);
  return static_cast<int>(rng.below(choices)) - max_transpose;
}

void write_transposed_frames(const uint8_t* src, int64_t frames, int pitches, int shift, float* dst,
                             int64_t dst_stride) {
  // Source columns whose shifted position stays inside [0, pitches).
  const int first = std::max(0, -shift);
  const int last = std::min(pitches, pitches - shift);
  for (int64_t t = 0; t < frames; ++t) {
    const uint8_t* src_row = src + t * pitches;
    float* dst_row = dst + t * dst_stride;
    for (int p = first; p < last; ++p)
      dst_row[p + shift] = static_cast<float>(src_row[p]);
  }
}

}  // namespace cadenza
