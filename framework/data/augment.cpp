#include "data/augment.hpp"

#include <algorithm>

namespace cadenza {

int draw_transpose(PhiloxKey sample_key, int max_transpose) {
  if (max_transpose == 0) return 0;
  CounterRng rng(sample_key);
  const auto choices = static_cast<uint64_t>(2 * max_transpose + 1);
  return static_cast<int>(rng.below(choices)) - max_transpose;
}

int draw_transpose_in_range(PhiloxKey sample_key, int max_transpose, const uint8_t* src,
                            int64_t frames, int pitches, int fixed_columns) {
  int lowest = pitches;
  int highest = -1;
  for (int64_t t = 0; t < frames; ++t) {
    const uint8_t* row = src + t * pitches;
    for (int p = fixed_columns; p < pitches; ++p) {
      if (row[p] == 0) continue;
      lowest = std::min(lowest, p);
      highest = std::max(highest, p);
    }
  }
  if (highest < 0) return 0;  // no pitch to move
  const int down = std::min(max_transpose, lowest - fixed_columns);
  const int up = std::min(max_transpose, pitches - 1 - highest);
  if (down == 0 && up == 0) return 0;
  CounterRng rng(sample_key);
  return static_cast<int>(rng.below(static_cast<uint64_t>(down + up + 1))) - down;
}

void write_transposed_frames(const uint8_t* src, int64_t frames, int pitches, int shift, float* dst,
                             int64_t dst_stride, int fixed_columns) {
  // Source pitch columns whose shifted position stays inside [fixed_columns, pitches).
  const int first = std::max(fixed_columns, fixed_columns - shift);
  const int last = std::min(pitches, pitches - shift);
  for (int64_t t = 0; t < frames; ++t) {
    const uint8_t* src_row = src + t * pitches;
    float* dst_row = dst + t * dst_stride;
    for (int p = 0; p < fixed_columns; ++p)
      dst_row[p] = static_cast<float>(src_row[p]);
    for (int p = first; p < last; ++p)
      dst_row[p + shift] = static_cast<float>(src_row[p]);
  }
}

}  // namespace cadenza
