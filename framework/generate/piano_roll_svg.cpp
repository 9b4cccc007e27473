#include "generate/piano_roll_svg.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "data/inspect.hpp"
#include "plot/svg_writer.hpp"

namespace cadenza {
namespace {

constexpr double kLeft = 64, kRight = 24, kTop = 56, kBottom = 64;
constexpr double kRowHeight = 7;
constexpr const char* kPrimerNote = "#4a6fa5";
constexpr const char* kGeneratedNote = "#e4572e";
constexpr const char* kPrimerBackground = "#e9eef6";

bool is_black_key(int pitch) {
  const int pc = pitch % 12;
  return pc == 1 || pc == 3 || pc == 6 || pc == 8 || pc == 10;
}

// [low, high] MIDI pitches to draw: the octaves (C..B) holding the piece's notes, C3..B5 when it
// is silent, within the roll's columns.
std::pair<int, int> drawn_pitches(const PianoRoll& roll) {
  int low = -1, high = -1;
  for (int64_t t = 0; t < roll.frames; ++t) {
    for (int p = 0; p < roll.pitches; ++p) {
      if (roll.at(t, p) == 0) continue;
      const int pitch = roll.lowest_pitch + p;
      low = low < 0 ? pitch : std::min(low, pitch);
      high = std::max(high, pitch);
    }
  }
  if (low < 0) {
    low = 48;
    high = 83;
  }
  low = low / 12 * 12;
  high = high / 12 * 12 + 11;
  return {std::max(low, roll.lowest_pitch), std::min(high, roll.lowest_pitch + roll.pitches - 1)};
}

}  // namespace

std::string piano_roll_svg(const PianoRoll& roll, const PianoRollPicture& picture) {
  const auto [low, high] = drawn_pitches(roll);
  const int64_t frames = std::max<int64_t>(roll.frames, 1);
  const double cell = std::clamp(960.0 / static_cast<double>(frames), 1.5, 12.0);
  const double plot_width = cell * static_cast<double>(frames);
  const double plot_height = kRowHeight * (high - low + 1);
  SvgWriter svg(kLeft + plot_width + kRight, kTop + plot_height + kBottom);
  const auto x_of = [&](int64_t frame) { return kLeft + cell * static_cast<double>(frame); };
  const auto y_of = [&](int pitch) { return kTop + kRowHeight * (high - pitch); };

  svg.text(kLeft, 18, picture.title, "start", 13);
  const int64_t primer = std::min(picture.primer_frames, roll.frames);
  svg.rect(kLeft, 28, 12, 8, kPrimerNote);
  svg.text(kLeft + 16, 36, fmt::format("primer ({} frames)", primer));
  svg.rect(kLeft + 150, 28, 12, 8, kGeneratedNote);
  svg.text(kLeft + 166, 36, fmt::format("generated ({} frames)", roll.frames - primer));

  for (int pitch = low; pitch <= high; ++pitch) {
    svg.rect(kLeft, y_of(pitch), plot_width, kRowHeight,
             is_black_key(pitch) ? "#f0f0f0" : "#ffffff");
  }
  if (primer > 0)
    svg.rect(kLeft, kTop, cell * static_cast<double>(primer), plot_height, kPrimerBackground);
  for (int pitch = low; pitch <= high; ++pitch) {
    if (pitch % 12 != 0) continue;
    const double bottom = y_of(pitch) + kRowHeight;
    svg.line(kLeft, bottom, kLeft + plot_width, bottom, "#c8c8c8", 0.6);
    svg.text(kLeft - 6, bottom - 0.5, pitch_name(pitch), "end", 10);
  }

  // Notes: runs of sounding frames per key, split at the primer boundary.
  for (int pitch = low; pitch <= high; ++pitch) {
    const int column = pitch - roll.lowest_pitch;
    int64_t t = 0;
    while (t < roll.frames) {
      if (roll.at(t, column) == 0) {
        ++t;
        continue;
      }
      const int64_t start = t;
      const int64_t stop = start < primer ? primer : roll.frames;
      while (t < stop && roll.at(t, column) != 0)
        ++t;
      svg.rect(x_of(start) + 0.3, y_of(pitch) + 0.5, cell * static_cast<double>(t - start) - 0.6,
               kRowHeight - 1, start < primer ? kPrimerNote : kGeneratedNote);
    }
  }
  if (primer > 0 && primer < roll.frames) {
    svg.line(x_of(primer), kTop - 4, x_of(primer), kTop + plot_height + 4, "#333333", 1.2, true);
  }

  // Axes: frames above seconds on the time axis, pitch names on the left.
  const double axis_y = kTop + plot_height;
  svg.line(kLeft, axis_y, kLeft + plot_width, axis_y, "#333333", 1);
  svg.line(kLeft, kTop, kLeft, axis_y, "#333333", 1);
  const int64_t step = tick_step(roll.frames, std::max(2, static_cast<int>(plot_width / 60)));
  for (int64_t t = 0; t <= roll.frames; t += step) {
    svg.line(x_of(t), axis_y, x_of(t), axis_y + 4, "#333333", 1);
    svg.text(x_of(t), axis_y + 16, fmt::format("{}", t), "middle", 10);
    svg.text(x_of(t), axis_y + 28,
             fmt::format("{:.1f}s", static_cast<double>(t) * picture.seconds_per_frame), "middle",
             9);
  }
  svg.text(kLeft + plot_width / 2, axis_y + 50,
           fmt::format("time: frame (above), seconds (below; {:.3g} s per frame)",
                       picture.seconds_per_frame),
           "middle", 11);
  svg.text(18, kTop + plot_height / 2, "pitch", "middle", 11, -90);
  return svg.finish();
}

}  // namespace cadenza
