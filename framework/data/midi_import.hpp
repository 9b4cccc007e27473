// Import of a folder of Standard MIDI Files into a dataset. Every regular file under the folder
// (recursively, in sorted order) is tried; a file that cannot be used is skipped with a reason
// and never stops the import. Each imported file becomes one sequence of the split chosen by a
// hash of its relative path, so the split is deterministic and stable when files are added.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "data/dataset.hpp"
#include "data/melody.hpp"
#include "data/midi.hpp"

namespace cadenza {

struct MidiImportOptions {
  PianoRollOptions roll;                                 // resolution, pitch range, drums excluded
  std::array<double, 3> split_ratios = {0.8, 0.1, 0.1};  // train, valid, test; need not sum to 1
  std::string name;                                      // dataset name
};

struct SkippedFile {
  std::string file;    // path relative to the folder
  std::string reason;  // e.g. "not a MIDI file: ...", "no notes", "all 12 notes outside ..."
};

struct MidiImportReport {
  Dataset dataset;
  int64_t files_seen = 0;
  int64_t files_imported = 0;
  std::vector<SkippedFile> skipped;
  int64_t notes_out_of_range = 0;  // dropped from files that were imported
};

// Throws ConfigError naming the option when a ratio is negative or they sum to 0, the
// resolution is not positive, or the pitch range leaves MIDI pitches 0..127.
void validate_midi_import_options(const MidiImportOptions& options);

// The split (0 train, 1 valid, 2 test) of a file: the first 64 bits of sha256(relative path) as
// a fraction of 2^64, compared with the cumulative normalised ratios.
int split_for_file(std::string_view relative_path, const std::array<double, 3>& split_ratios);

// Imports every file under `folder`. `on_skip`, when set, is called as each file is skipped.
// Throws InputError when `folder` is not a readable directory.
MidiImportReport import_midi_folder(const std::filesystem::path& folder,
                                    const MidiImportOptions& options,
                                    const std::function<void(const SkippedFile&)>& on_skip = {});

struct MelodyImportOptions {
  MelodyOptions melody;  // grid, pitch range, voice, range policy, rest split, minimum length
  std::array<double, 3> split_ratios = {0.8, 0.1, 0.1};
  std::string name;
};

struct MelodyImportReport {
  TokenDataset dataset;
  int64_t files_seen = 0;
  int64_t files_imported = 0;
  std::vector<SkippedFile> skipped;
  int64_t notes_dropped_polyphony = 0;  // in imported files: removed by the highest-note rule
  int64_t notes_transposed = 0;         // in imported files: moved by octaves into the range
  int64_t fragments_too_short = 0;      // in imported files: dropped by min_events
};

// Imports the melody of every file under `folder` (data/melody.hpp, extract_melody): each
// fragment becomes one sequence "<relative path>#<fragment>", every fragment of a file in the
// split split_for_file gives the file. Throws ConfigError for invalid options and InputError
// when `folder` is not a readable directory.
MelodyImportReport import_melody_folder(
    const std::filesystem::path& folder, const MelodyImportOptions& options,
    const std::function<void(const SkippedFile&)>& on_skip = {});

}  // namespace cadenza
