// Audio from MIDI through Debian's fluidsynth program (package fluidsynth) and General MIDI
// soundfont (package fluid-soundfont-gm):
//   fluidsynth -ni -q -g 0.5 -T wav -r 44100 -F OUT.wav SOUNDFONT FILE.mid
// 16-bit stereo WAV at 44.1 kHz, written to a temporary name and renamed (complete or absent).
// Gain 0.5 instead of fluidsynth's 0.2 (measured): a four-voice chorale peaks near -15 dBFS and
// 18 keys at once near -8 dBFS, without clipping.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace cadenza {

// Where fluid-soundfont-gm installs its soundfont.
inline constexpr std::string_view kDefaultSoundfont = "/usr/share/sounds/sf2/FluidR3_GM.sf2";

struct AudioRender {
  bool rendered = false;
  std::string message;  // why not, and how to get it, when not rendered
};

// The fluidsynth executable on $PATH, or an empty path.
std::filesystem::path find_fluidsynth();

// Renders `midi` to `wav`. A missing fluidsynth or soundfont is not an error: the result says
// what is missing and which Debian package provides it. Throws Error naming the files and
// quoting fluidsynth's output when fluidsynth runs but fails or writes nothing.
AudioRender render_wav(const std::filesystem::path& midi, const std::filesystem::path& wav,
                       const std::filesystem::path& soundfont);

}  // namespace cadenza
