// Training-time augmentation of piano rolls: transposition by a whole number of semitones.
// The shift of a sample is drawn from that sample's own Philox key, so it does not depend on
// which thread builds the sample or in which order samples are built.
#pragma once

#include <cstdint>

#include "core/rng.hpp"

namespace cadenza {

// A shift uniform in [-max_transpose, max_transpose]; 0 without drawing when max_transpose is 0.
int draw_transpose(PhiloxKey sample_key, int max_transpose);

// src: [frames, pitches] 0/1 bytes, row-major. dst: float rows, frame t at dst + t * dst_stride,
// already zeroed. Writes 1.0 at column p + shift for every sounding (t, p); a note whose shifted
// column falls outside [0, pitches) is dropped.
void write_transposed_frames(const uint8_t* src, int64_t frames, int pitches, int shift, float* dst,
                             int64_t dst_stride);

}  // namespace cadenza
