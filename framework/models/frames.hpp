// Moving frames between loader batches, dataset splits and layer tensors (all time-major).
#pragma once

#include <cstdint>

#include "core/tensor.hpp"
#include "data/dataset.hpp"
#include "data/loader.hpp"

namespace cadenza {

// block.frames [T, B, P] -> out [t1 - t0, B, P] = frames t0 .. t1-1.
void copy_frames(const FrameBlock& block, int batch, int pitches, int64_t t0, int64_t t1,
                 Tensor& out);
// block.mask [T, B] -> out [t1 - t0, B] = mask rows t0 .. t1-1.
void copy_mask(const FrameBlock& block, int batch, int64_t t0, int64_t t1, Tensor& out);

// source [R, ...] -> out [t1 - t0, ...] = rows t0 .. t1-1 of source.
void copy_rows(const Tensor& source, int64_t t0, int64_t t1, Tensor& out);

// Number of 1s in a 0/1 mask.
int64_t count_scored(const Tensor& mask);
// Number of 1s in rows [first_step, steps) of a block's mask [steps, B].
int64_t count_scored(const FrameBlock& block, int batch_size, int64_t first_step);
// 1 / frames, or 0 when there are none: the gradient scale of a loss that is a mean over frames.
float mean_scale(int64_t frames);

// Frames [start, start + steps) of sequence `sequence` of `split` into column b of
// frames [steps, B, P] and mask [steps, B]; rows past the sequence's end stay 0 (padding).
void gather_sequence(const SplitRolls& split, int64_t sequence, int64_t start, int64_t steps,
                     int64_t b, Tensor& frames, Tensor& mask);

}  // namespace cadenza
