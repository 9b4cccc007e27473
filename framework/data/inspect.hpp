// Statistics of a dataset's splits and the table `cadenza data inspect` prints. Every count is
// an exact integer; ratios and means are derived from those counts.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.hpp"

namespace cadenza {

struct SplitStatistics {
  int64_t sequences = 0;
  int64_t frames = 0;
  int64_t shortest = 0;  // frames of the shortest sequence (0 when the split is empty)
  int64_t longest = 0;
  int64_t active_cells = 0;                  // (frame, pitch) cells that sound
  int64_t silent_frames = 0;                 // frames in which no pitch sounds
  std::vector<int64_t> polyphony_histogram;  // [k] = frames with exactly k pitches sounding
  std::vector<int64_t> pitch_histogram;      // [p] = frames in which column p sounds

  double mean_polyphony() const;  // active_cells / frames
  double silence_ratio() const;   // silent_frames / frames
  int max_polyphony() const;
};

SplitStatistics compute_split_statistics(const SplitRolls& split);

// The whole report: header (name, source, sha256, resolution or "unknown", pitch range), one row
// per split, then the polyphony and pitch histograms with one column per split.
std::string format_inspection(const DatasetInfo& info,
                              const std::array<SplitStatistics, 3>& statistics);

// The report of a token dataset: header (name, source, sha256, steps per quarter, vocabulary
// size and pitch range), then per split sequences, events, shortest, longest, the shares of
// NOTE_ON, NOTE_OFF and NO_EVENT steps and the lowest and highest pitch played.
std::string format_token_inspection(const TokenDataset& dataset);

// "C4" for 60, "A0" for 21.
std::string pitch_name(int midi_pitch);

}  // namespace cadenza
