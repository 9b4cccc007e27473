#include "models/frames.hpp"

#include <algorithm>
#include <cstring>

namespace cadenza {

void copy_frames(const FrameBlock& block, int batch, int pitches, int64_t t0, int64_t t1,
                 Tensor& out) {
  out.reset({t1 - t0, batch, pitches});
  const int64_t row = int64_t{batch} * pitches;
  std::memcpy(out.data(), block.frames.data() + t0 * row,
              static_cast<size_t>((t1 - t0) * row) * sizeof(float));
}

void copy_mask(const FrameBlock& block, int batch, int64_t t0, int64_t t1, Tensor& out) {
  out.reset({t1 - t0, batch});
  std::memcpy(out.data(), block.mask.data() + t0 * batch,
              static_cast<size_t>((t1 - t0) * batch) * sizeof(float));
}

void copy_rows(const Tensor& source, int64_t t0, int64_t t1, Tensor& out) {
  std::vector<int64_t> dims = source.dims();
  const int64_t row = source.numel() / dims[0];
  dims[0] = t1 - t0;
  out.reset(dims);
  std::memcpy(out.data(), source.data() + t0 * row,
              static_cast<size_t>((t1 - t0) * row) * sizeof(float));
}

int64_t count_scored(const Tensor& mask) {
  int64_t scored = 0;
  for (const float m : mask.values())
    scored += m != 0.0f ? 1 : 0;
  return scored;
}

int64_t count_scored(const FrameBlock& block, int batch_size, int64_t first_step) {
  int64_t scored = 0;
  for (size_t i = static_cast<size_t>(first_step) * batch_size; i < block.mask.size(); ++i)
    scored += block.mask[i] != 0.0f ? 1 : 0;
  return scored;
}

float mean_scale(int64_t frames) {
  return frames > 0 ? 1.0f / static_cast<float>(frames) : 0.0f;
}

void gather_sequence(const SplitRolls& split, int64_t sequence, int64_t start, int64_t steps,
                     int64_t b, Tensor& frames, Tensor& mask) {
  const int64_t batch = frames.dim(1);
  const int64_t pitches = frames.dim(2);
  const auto cells = split.sequence_cells(sequence);
  const int64_t available = std::min(steps, split.length(sequence) - start);
  for (int64_t t = 0; t < available; ++t) {
    const uint8_t* src = cells.data() + (start + t) * pitches;
    float* dst = frames.data() + (t * batch + b) * pitches;
    for (int64_t p = 0; p < pitches; ++p)
      dst[p] = src[p];
    mask[t * batch + b] = 1.0f;
  }
}

}  // namespace cadenza
