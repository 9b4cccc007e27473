#include "generate/primer.hpp"

#include <fmt/format.h>

#include <charconv>
#include <filesystem>

#include "core/error.hpp"
#include "data/melody.hpp"
#include "data/midi.hpp"

namespace cadenza {
namespace {

constexpr std::string_view kDatasetPrefix = "dataset:";
constexpr std::string_view kValidForms =
    "pass a MIDI file or dataset:SPLIT:INDEX with SPLIT = train, valid or test";

PianoRoll dataset_primer(std::string_view spec, const Dataset& dataset, std::string& description) {
  const std::string_view rest = spec.substr(kDatasetPrefix.size());
  const size_t colon = rest.find(':');
  if (colon == std::string_view::npos) {
    throw UsageError(
        fmt::format("--primer \"{}\": expected dataset:SPLIT:INDEX, e.g. "
                    "dataset:test:0",
                    spec));
  }
  const std::string_view split_name = rest.substr(0, colon);
  const std::string_view index_text = rest.substr(colon + 1);
  int split = -1;
  for (size_t i = 0; i < kSplitNames.size(); ++i) {
    if (kSplitNames[i] == split_name) split = static_cast<int>(i);
  }
  if (split < 0) {
    throw UsageError(
        fmt::format("--primer \"{}\": split \"{}\" is not train, valid or test", spec, split_name));
  }
  const SplitRolls& rolls = dataset.splits[static_cast<size_t>(split)];
  int64_t index = -1;
  const auto [end, error] =
      std::from_chars(index_text.data(), index_text.data() + index_text.size(), index);
  if (error != std::errc() || end != index_text.data() + index_text.size() || index < 0 ||
      index >= rolls.sequences()) {
    throw UsageError(fmt::format(
        "--primer \"{}\": index \"{}\" is not a sequence of the {} split of {}; valid: 0..{}", spec,
        index_text, split_name, dataset.info.name, rolls.sequences() - 1));
  }
  description = fmt::format("{} sequence {} of {}", split_name, index, dataset.info.name);
  return rolls.sequence(index, dataset.info.lowest_pitch);
}

// The melody of a MIDI file for a token model: its first fragment, as one-hot events.
PianoRoll melody_primer(const std::filesystem::path& path, const MidiFile& midi,
                        const Dataset& dataset, int frames_per_quarter, std::string& description) {
  MelodyOptions options;
  options.steps_per_quarter = frames_per_quarter;
  options.vocabulary = melody_vocabulary(dataset.info);
  // The voice the model's melodies were imported from.
  options.track = dataset.info.melody_track;
  options.channel = dataset.info.melody_channel;
  options.min_events = 2;  // the shortest fragment the extraction allows
  const MelodyExtraction melody = extract_melody(midi, options);
  if (melody.fragments.empty()) {
    throw InputError(fmt::format("--primer {}: no melody in the MIDI file ({})", path.string(),
                                 melody.skip_reason));
  }
  description = fmt::format("the melody of MIDI file {} ({})", path.string(),
                            options.track >= 0 ? fmt::format("track {}", options.track)
                                               : std::string("its busiest non-drum track"));
  if (options.channel >= 0) description += fmt::format(", channel {}", options.channel + 1);
  if (melody.notes_transposed > 0) {
    description +=
        fmt::format(" ({} notes moved by octaves into the model's range)", melody.notes_transposed);
  }
  return one_hot_roll(melody.fragments.front(), options.vocabulary);
}

PianoRoll midi_primer(std::string_view spec, const Dataset& dataset, int frames_per_quarter,
                      int64_t& dropped, std::string& description) {
  const std::filesystem::path path(spec);
  if (!std::filesystem::is_regular_file(path)) {
    throw UsageError(fmt::format("--primer \"{}\": no such file; {}", spec, kValidForms));
  }
  if (dataset.info.kind == kTokensKind) {
    MidiFile midi;
    try {
      midi = read_midi(path);
    } catch (const InputError& e) {
      throw InputError(fmt::format("--primer: {}", e.what()));
    }
    return melody_primer(path, midi, dataset, frames_per_quarter, description);
  }
  PianoRollOptions options;
  options.frames_per_quarter = frames_per_quarter;
  options.lowest_pitch = dataset.info.lowest_pitch;
  options.pitches = dataset.info.num_pitches;
  MidiFile midi;
  try {
    midi = read_midi(path);
  } catch (const InputError& e) {
    throw InputError(fmt::format("--primer: {}", e.what()));
  }
  PianoRoll roll = midi_to_piano_roll(midi, options, &dropped);
  if (roll.frames == 0) {
    throw InputError(fmt::format(
        "--primer {}: the MIDI file has no note within the model's pitches {}..{} (MIDI)",
        path.string(), options.lowest_pitch, options.lowest_pitch + options.pitches - 1));
  }
  description = fmt::format("MIDI file {}", path.string());
  return roll;
}

}  // namespace

Primer load_primer(std::string_view spec, const Dataset& dataset, int frames_per_quarter,
                   int64_t max_frames) {
  Primer primer;
  if (spec.empty()) {
    primer.roll.frames = 1;
    primer.roll.pitches = frame_width(dataset.info);
    primer.roll.lowest_pitch = dataset.info.lowest_pitch;
    primer.roll.cells.assign(static_cast<size_t>(primer.roll.pitches), 0);
    primer.description = "one silent frame";
    if (dataset.info.kind == kTokensKind) {
      primer.roll.cells[kNoEvent] = 1;
      primer.description = "one NO_EVENT step";
    }
    return primer;
  }
  if (spec.starts_with(kDatasetPrefix)) {
    primer.roll = dataset_primer(spec, dataset, primer.description);
  } else {
    primer.roll =
        midi_primer(spec, dataset, frames_per_quarter, primer.dropped_notes, primer.description);
  }
  if (max_frames > 0 && primer.roll.frames > max_frames) {
    primer.roll.frames = max_frames;
    primer.roll.cells.resize(static_cast<size_t>(max_frames * primer.roll.pitches));
    primer.description += fmt::format(" (first {} frames)", max_frames);
  }
  return primer;
}

}  // namespace cadenza
