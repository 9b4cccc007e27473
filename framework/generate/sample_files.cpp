#include "generate/sample_files.hpp"

#include <fmt/format.h>

#include "core/atomic_file.hpp"
#include "data/melody.hpp"
#include "data/midi.hpp"
#include "generate/attention_svg.hpp"
#include "generate/audio.hpp"
#include "generate/piano_roll_svg.hpp"

namespace cadenza {
namespace {

// File stem of sample `index`: "sample-007".
std::string sample_stem(int index) {
  return fmt::format("sample-{:03d}", index);
}

}  // namespace

SampleFiles write_sample_files(const GeneratedSample& sample, int index,
                               const SampleOutputSettings& settings) {
  SampleFiles files;
  const std::string stem = sample_stem(index);
  const std::string title = fmt::format("sample {}: {}", index, settings.caption);

  MidiFile midi =
      sample.events.empty()
          ? piano_roll_to_midi(sample.roll, settings.frames_per_quarter,
                               settings.microseconds_per_quarter)
          : melody_to_midi(sample.events, {sample.roll.lowest_pitch, sample.roll.pitches},
                           settings.frames_per_quarter, settings.microseconds_per_quarter);
  midi.track_names[1] = fmt::format("cadenza {}", stem);
  files.midi = settings.folder / (stem + ".mid");
  write_midi(files.midi, midi);

  PianoRollPicture picture;
  picture.title = title;
  picture.primer_frames = sample.primer_frames;
  picture.seconds_per_frame =
      settings.microseconds_per_quarter * 1e-6 / settings.frames_per_quarter;
  files.piano_roll = settings.folder / (stem + ".svg");
  write_file_atomic(files.piano_roll, piano_roll_svg(sample.roll, picture));

  if (!sample.attention.empty()) {
    files.attention = settings.folder / (stem + ".attention.svg");
    write_file_atomic(files.attention, attention_svg(sample.attention, {"attention, " + title,
                                                                        sample.primer_frames}));
  }
  if (settings.audio) {
    const std::filesystem::path wav = settings.folder / (stem + ".wav");
    const AudioRender render = render_wav(files.midi, wav, settings.soundfont);
    if (render.rendered) {
      files.wav = wav;
    } else {
      files.audio_message = render.message;
    }
  }
  return files;
}

}  // namespace cadenza
