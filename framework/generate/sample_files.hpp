// The files of one generated sample, in the output folder (each written atomically):
//   sample-NNN.mid             the piece (primer + generated), one piano track
//   sample-NNN.svg             its piano roll (generate/piano_roll_svg.hpp)
//   sample-NNN.attention.svg   the attention map, for attention models (generate/attention_svg.hpp)
//   sample-NNN.wav             with audio on, rendered by fluidsynth (generate/audio.hpp)
#pragma once

#include <filesystem>
#include <string>

#include "generate/generator.hpp"

namespace cadenza {

struct SampleOutputSettings {
  std::filesystem::path folder;
  int frames_per_quarter = 1;
  int microseconds_per_quarter = 500000;
  std::string caption;  // what generated it, after "sample N" in picture titles
  bool audio = false;
  std::filesystem::path soundfont;
};

struct SampleFiles {
  std::filesystem::path midi, piano_roll, attention, wav;  // empty when not written
  std::string audio_message;  // why the WAV is missing, when audio was asked for
};

SampleFiles write_sample_files(const GeneratedSample& sample, int index,
                               const SampleOutputSettings& settings);

}  // namespace cadenza
