#include "data/midi_import.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.hpp"
#include "core/sha256.hpp"

namespace cadenza {
namespace {

constexpr int kDrumChannel = 9;  // General MIDI channel 10

std::vector<std::filesystem::path> files_under(const std::filesystem::path& folder) {
  std::error_code error;
  if (!std::filesystem::is_directory(folder, error)) {
    throw InputError(
        fmt::format("{}: not a directory (expected a folder of MIDI files)", folder.string()));
  }
  std::vector<std::filesystem::path> relative_paths;
  std::filesystem::recursive_directory_iterator it(folder, error);
  if (error) {
    throw InputError(
        fmt::format("{}: cannot list the folder: {}", folder.string(), error.message()));
  }
  for (const auto& entry : it) {
    if (entry.is_regular_file()) {
      relative_paths.push_back(entry.path().lexically_relative(folder));
    }
  }
  std::sort(relative_paths.begin(), relative_paths.end());
  return relative_paths;
}

std::string pitch_range_text(const PianoRollOptions& roll) {
  return fmt::format("pitch range {}..{}", roll.lowest_pitch, roll.lowest_pitch + roll.pitches - 1);
}

void validate_split_ratios(const std::array<double, 3>& ratios) {
  const bool negative = std::any_of(ratios.begin(), ratios.end(),
                                    [](double r) { return !(r >= 0.0) || !std::isfinite(r); });
  if (negative || ratios[0] + ratios[1] + ratios[2] <= 0.0) {
    throw ConfigError(
        fmt::format("split ratios {},{},{}: each must be a finite number >= 0 and their sum > 0 "
                    "(e.g. 0.8,0.1,0.1)",
                    ratios[0], ratios[1], ratios[2]));
  }
}

std::string source_name(const std::filesystem::path& folder) {
  std::string source = folder.lexically_normal().filename().string();
  if (source.empty()) source = folder.lexically_normal().parent_path().filename().string();
  return source;
}

}  // namespace

void validate_midi_import_options(const MidiImportOptions& options) {
  validate_split_ratios(options.split_ratios);
  const auto& roll = options.roll;
  if (roll.frames_per_quarter < 1 || roll.frames_per_quarter > 960) {
    throw ConfigError(fmt::format("resolution {}: frames per quarter note must be in 1..960",
                                  roll.frames_per_quarter));
  }
  if (roll.lowest_pitch < 0 || roll.pitches < 1 || roll.lowest_pitch + roll.pitches > 128) {
    throw ConfigError(fmt::format(
        "lowest pitch {} with {} pitches: the range must lie within MIDI pitches 0..127",
        roll.lowest_pitch, roll.pitches));
  }
}

int split_for_file(std::string_view relative_path, const std::array<double, 3>& split_ratios) {
  const std::string digest = sha256_hex(relative_path);
  const uint64_t bits = std::stoull(digest.substr(0, 16), nullptr, 16);
  const double fraction = static_cast<double>(bits >> 11) * 0x1.0p-53;
  const double total = split_ratios[0] + split_ratios[1] + split_ratios[2];
  double cumulative = 0.0;
  for (int s = 0; s < 2; ++s) {
    cumulative += split_ratios[s] / total;
    if (fraction < cumulative) return s;
  }
  return 2;
}

MidiImportReport import_midi_folder(const std::filesystem::path& folder,
                                    const MidiImportOptions& options,
                                    const std::function<void(const SkippedFile&)>& on_skip) {
  validate_midi_import_options(options);
  const auto relative_paths = files_under(folder);
  MidiImportReport report;
  auto& info = report.dataset.info;
  info.name = options.name;
  info.source = source_name(folder);
  info.frames_per_quarter = options.roll.frames_per_quarter;
  info.lowest_pitch = options.roll.lowest_pitch;
  info.num_pitches = options.roll.pitches;
  for (auto& split : report.dataset.splits)
    split.pitches = options.roll.pitches;

  std::string manifest;
  const auto skip = [&](const std::string& file, std::string reason) {
    report.skipped.push_back({file, std::move(reason)});
    if (on_skip) on_skip(report.skipped.back());
  };
  for (const auto& relative : relative_paths) {
    const std::string file = relative.generic_string();
    const auto full_path = folder / relative;
    manifest += fmt::format("{}\t{}\n", file, sha256_file_hex(full_path));
    ++report.files_seen;
    MidiFile midi;
    try {
      midi = read_midi(full_path);
    } catch (const InputError& e) {
      skip(file, fmt::format("not a readable MIDI file: {}", e.what()));
      continue;
    }
    if (midi.notes.empty()) {
      skip(file, "no notes");
      continue;
    }
    const auto pitched_notes = std::count_if(
        midi.notes.begin(), midi.notes.end(),
        [&](const auto& n) { return !options.roll.exclude_drums || n.channel != kDrumChannel; });
    if (pitched_notes == 0) {
      skip(file, fmt::format("only drum notes (channel 10, excluded): {}", midi.notes.size()));
      continue;
    }
    int64_t dropped = 0;
    PianoRoll roll;
    try {
      roll = midi_to_piano_roll(midi, options.roll, &dropped);
    } catch (const InputError& e) {
      skip(file, fmt::format("cannot be quantised: {}", e.what()));
      continue;
    }
    if (dropped == pitched_notes) {
      skip(file, fmt::format("out of range: all {} notes outside {}", dropped,
                             pitch_range_text(options.roll)));
      continue;
    }
    if (roll.frames < 1) {
      skip(file,
           fmt::format("no frames at {} frames per quarter note", options.roll.frames_per_quarter));
      continue;
    }
    report.notes_out_of_range += dropped;
    ++report.files_imported;
    report.dataset.splits[split_for_file(file, options.split_ratios)].append(roll, file);
  }
  info.source_sha256 = sha256_hex(manifest);
  return report;
}

MelodyImportReport import_melody_folder(const std::filesystem::path& folder,
                                        const MelodyImportOptions& options,
                                        const std::function<void(const SkippedFile&)>& on_skip) {
  validate_split_ratios(options.split_ratios);
  validate_melody_options(options.melody);
  const auto relative_paths = files_under(folder);
  MelodyImportReport report;
  auto& info = report.dataset.info;
  info.kind = std::string(kTokensKind);
  info.name = options.name;
  info.source = source_name(folder);
  info.frames_per_quarter = options.melody.steps_per_quarter;
  info.lowest_pitch = options.melody.vocabulary.lowest_pitch;
  info.num_pitches = options.melody.vocabulary.pitches;
  info.melody_track = options.melody.track;
  info.melody_channel = options.melody.channel;

  std::string manifest;
  for (const auto& relative : relative_paths) {
    const std::string file = relative.generic_string();
    const auto full_path = folder / relative;
    manifest += fmt::format("{}\t{}\n", file, sha256_file_hex(full_path));
    ++report.files_seen;
    MelodyExtraction melody;
    try {
      melody = extract_melody(read_midi(full_path), options.melody);
    } catch (const InputError& e) {
      melody.skip_reason = fmt::format("not a readable MIDI file: {}", e.what());
    }
    if (melody.fragments.empty()) {
      report.skipped.push_back({file, melody.skip_reason});
      if (on_skip) on_skip(report.skipped.back());
      continue;
    }
    ++report.files_imported;
    report.notes_dropped_polyphony += melody.notes_dropped_polyphony;
    report.notes_transposed += melody.notes_transposed;
    report.fragments_too_short += melody.fragments_too_short;
    auto& split = report.dataset.splits[split_for_file(file, options.split_ratios)];
    for (size_t f = 0; f < melody.fragments.size(); ++f) {
      split.append(melody.fragments[f], fmt::format("{}#{}", file, f));
    }
  }
  info.source_sha256 = sha256_hex(manifest);
  return report;
}

}  // namespace cadenza
