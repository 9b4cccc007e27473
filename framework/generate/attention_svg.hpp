// The attention map of a generated piece (SVG): one row per decoder step (the generated frame
// it predicts, top to bottom), one column per encoder step, placed at the frame of the piece
// that encoder state read (left to right). A cell's darkness is the attention weight, on a
// scale from 0 to the largest weight in the map (colour bar); grey cells lie outside the
// encoder's window for that step. Red lines mark where a new segment starts and the encoder
// reads again; the dashed line is the end of the primer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "generate/generator.hpp"

namespace cadenza {

struct AttentionPicture {
  std::string title;
  int64_t primer_frames = 0;
};

// rows: one per generated frame, in frame order -> an SVG document.
std::string attention_svg(const std::vector<AttentionRow>& rows, const AttentionPicture& picture);

}  // namespace cadenza
