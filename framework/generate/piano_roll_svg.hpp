// The piano-roll picture of a generated piece (SVG): time runs left to right, pitch bottom to
// top. The primer's notes are slate blue on a tinted background, the generated notes orange,
// with a dashed line and a legend at the boundary. The time axis is labelled in frames and, below,
// in seconds; the pitch axis names every C (C4 = MIDI 60). Only the octaves the piece uses are
// drawn.
#pragma once

#include <cstdint>
#include <string>

#include "data/piano_roll.hpp"

namespace cadenza {

struct PianoRollPicture {
  std::string title;
  int64_t primer_frames = 0;
  double seconds_per_frame = 0.5;
};

// roll [frames, pitches] -> an SVG document.
std::string piano_roll_svg(const PianoRoll& roll, const PianoRollPicture& picture);

}  // namespace cadenza
