// A binary piano roll: frames x pitches, row-major, one byte per cell (0 or 1).
// Column p is MIDI pitch lowest_pitch + p. The classic benchmarks use lowest_pitch 21 (A0) and
// 88 pitches.
#pragma once

#include <cstdint>
#include <vector>

namespace cadenza {

struct PianoRoll {
  int64_t frames = 0;
  int pitches = 88;
  int lowest_pitch = 21;
  std::vector<uint8_t> cells;  // size frames * pitches; cells[t * pitches + p]

  uint8_t at(int64_t frame, int pitch_index) const { return cells[frame * pitches + pitch_index]; }
  uint8_t& at(int64_t frame, int pitch_index) { return cells[frame * pitches + pitch_index]; }
};

}  // namespace cadenza
