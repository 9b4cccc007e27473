// Training-time augmentation of piano rolls and one-hot token rolls: transposition by a whole
// number of semitones.
// The shift of a sample is drawn from that sample's own Philox key, so it does not depend on
// which thread builds the sample or in which order samples are built.
#pragma once

#include <cstdint>

#include "core/rng.hpp"

namespace cadenza {

// A shift uniform in [-max_transpose, max_transpose]; 0 without drawing when max_transpose is 0.
int draw_transpose(PhiloxKey sample_key, int max_transpose);

// For rolls whose first `fixed_columns` columns are not pitches (the NO_EVENT and NOTE_OFF classes
// of a one-hot token roll): a shift uniform among those in [-max_transpose, max_transpose] that
// keep every sounding pitch column of src [frames, pitches] inside [fixed_columns, pitches), so
// that no note is lost; 0 without drawing when only 0 qualifies.
int draw_transpose_in_range(PhiloxKey sample_key, int max_transpose, const uint8_t* src,
                            int64_t frames, int pitches, int fixed_columns);

// src: [frames, pitches] 0/1 bytes, row-major. dst: float rows, frame t at dst + t * dst_stride,
// already zeroed. Columns below `fixed_columns` are copied in place; every other sounding (t, p)
// writes 1.0 at column p + shift, and a note whose shifted column falls outside
// [fixed_columns, pitches) is dropped.
void write_transposed_frames(const uint8_t* src, int64_t frames, int pitches, int shift, float* dst,
                             int64_t dst_stride, int fixed_columns = 0);

}  // namespace cadenza
