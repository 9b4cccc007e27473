// Piano-roll datasets: one HDF5 file per dataset, written once by `cadenza data import` and read
// by the loader, `cadenza data inspect` and any HDF5 tool (h5py, h5dump).
//
// File layout (format "cadenza-dataset", format_version 1):
//
//   /                         root group attributes
//     format                  string  "cadenza-dataset"
//     format_version          int64   1
//     name                    string  e.g. "Nottingham"
//     source                  string  the file or folder name it was imported from
//     source_sha256           string  sha256 (hex) of the source .mat file; for a MIDI folder, of
//                                     its manifest: one "<relative path>\t<sha256 of file>\n"
//                                     line per regular file, sorted by path
//     frames_per_quarter      int64   frames per quarter note; 0 = unknown (the .mat benchmarks)
//     lowest_pitch            int64   MIDI pitch of column 0 (21 = A0 for the benchmarks)
//     num_pitches             int64   columns per frame (88 for the benchmarks)
//     created_by              string  "cadenza <version>"
//   /train, /valid, /test     one group per split, attributes sequences (int64), frames (int64)
//     rolls                   uint8  [frames, num_pitches]  0/1 cells, chunked, deflate
//     offsets                 int64  [sequences + 1]        sequence i is rows offsets[i] to
//                                                           offsets[i+1] - 1 of rolls
//     names                   string [sequences]            where each sequence came from
//
// A melody token dataset (data/melody.hpp) has the same root attributes plus
//     kind                    string  "tokens" (absent = "piano_roll", every older file)
//     vocabulary              string  the class names in id order, "NO_EVENT,NOTE_OFF,NOTE_ON(48),
//                                     ..."; must match lowest_pitch and num_pitches (the NOTE_ON
//                                     pitches); frames_per_quarter is the grid's steps per quarter
//   /train, /valid, /test     attributes sequences (int64), events (int64)
//     events                  int16  [events]            class ids 0 .. num_pitches + 1
//     offsets                 int64  [sequences + 1]     sequence i is events offsets[i] to
//                                                        offsets[i+1] - 1
//     names                   string [sequences]         "<file>#<fragment>"
//
// Every sequence has at least one frame. Files are written to a temporary name and renamed, so a
// dataset file is complete or absent. Reading validates format, version, shapes and counts and
// throws InputError naming the file and what is wrong. HDF5 is reached through core/hdf5.hpp.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "data/melody.hpp"
#include "data/piano_roll.hpp"

namespace cadenza {

inline constexpr std::string_view kDatasetFormat = "cadenza-dataset";
inline constexpr int64_t kDatasetFormatVersion = 1;
inline constexpr std::array<std::string_view, 3> kSplitNames = {"train", "valid", "test"};

// Index of "train", "valid" or "test" in kSplitNames; ConfigError naming the valid names otherwise.
int split_index(std::string_view split);

inline constexpr std::string_view kPianoRollKind = "piano_roll";
inline constexpr std::string_view kTokensKind = "tokens";

struct DatasetInfo {
  std::string kind = std::string(kPianoRollKind);  // "piano_roll" or "tokens"
  std::string name;
  std::string source;
  std::string source_sha256;
  int frames_per_quarter = 0;  // 0 = unknown
  int lowest_pitch = 21;
  int num_pitches = 88;
  // Tokens: the voice the melodies were taken from (`data import --melody --track/--channel`),
  // so that a MIDI primer is read from the same one; -1 = the busiest non-drum track, every
  // channel but drums (and what a dataset written without these attributes reads as).
  int melody_track = -1;
  int melody_channel = -1;  // 0-based, as MelodyOptions::channel
  std::string created_by;   // filled in by write_dataset
};

// The sequences of one split stored back to back: sequence i is frames
// [offsets[i], offsets[i+1]) of `cells`, a row-major [frames, pitches] array of 0/1 bytes.
struct SplitRolls {
  int pitches = 88;
  std::vector<uint8_t> cells;
  std::vector<int64_t> offsets = {0};
  std::vector<std::string> names;

  int64_t sequences() const { return static_cast<int64_t>(offsets.size()) - 1; }
  int64_t frames() const { return offsets.back(); }
  int64_t length(int64_t sequence) const { return offsets[sequence + 1] - offsets[sequence]; }
  // [length(sequence), pitches] row-major.
  std::span<const uint8_t> sequence_cells(int64_t sequence) const;
  // Appends `roll` (which must have `pitches` columns and at least one frame) under `name`.
  void append(const PianoRoll& roll, std::string name);
  PianoRoll sequence(int64_t sequence, int lowest_pitch) const;
};

struct Dataset {
  DatasetInfo info;
  std::array<SplitRolls, 3> splits;  // in kSplitNames order
};

struct SplitCounts {
  int64_t sequences = 0;
  int64_t frames = 0;  // events, in a token dataset
};

// What a dataset file says about itself, read without loading any rolls.
struct DatasetHeader {
  DatasetInfo info;
  int64_t format_version = 0;
  std::array<SplitCounts, 3> counts;
};

// The melody event sequences of one split stored back to back: sequence i is events
// [offsets[i], offsets[i+1]).
struct SplitTokens {
  std::vector<int16_t> events;
  std::vector<int64_t> offsets = {0};
  std::vector<std::string> names;

  int64_t sequences() const { return static_cast<int64_t>(offsets.size()) - 1; }
  int64_t total_events() const { return offsets.back(); }
  int64_t length(int64_t sequence) const { return offsets[sequence + 1] - offsets[sequence]; }
  std::span<const int16_t> sequence(int64_t sequence) const;
  // Appends `events` (at least one) under `name`.
  void append(std::span<const int16_t> events, std::string name);
};

// A "tokens" dataset: info.kind == "tokens", info.lowest_pitch and info.num_pitches give the
// vocabulary (melody_vocabulary).
struct TokenDataset {
  DatasetInfo info;
  std::array<SplitTokens, 3> splits;  // in kSplitNames order
};

MelodyVocabulary melody_vocabulary(const DatasetInfo& info);

// The columns of the frames a model reads and predicts: info.num_pitches keys for a piano roll,
// the vocabulary's num_pitches + 2 classes for tokens.
int frame_width(const DatasetInfo& info);

// A token dataset as one-hot rolls, so that the loader, every model and evaluation take it as they
// take piano rolls: each event becomes a frame [vocabulary size] with a single 1 at its id. info
// is kept (kind "tokens"), which tells the models to score frames with a softmax over the classes
// (models/model.hpp, frame_output).
Dataset one_hot_dataset(const TokenDataset& tokens);

// Writes `dataset` to `path` atomically; info.created_by is set to "cadenza <version>". Throws
// InputError when the dataset is inconsistent (shapes, offsets, names) and Error on I/O failure.
void write_dataset(const std::filesystem::path& path, const Dataset& dataset);

DatasetHeader read_dataset_header(const std::filesystem::path& path);
// Loads one split ("train", "valid" or "test") into memory.
SplitRolls read_split(const std::filesystem::path& path, std::string_view split);
Dataset read_dataset(const std::filesystem::path& path);

// As write_dataset, for token datasets; InputError when an event is outside the vocabulary.
void write_token_dataset(const std::filesystem::path& path, const TokenDataset& dataset);
// Reads a token dataset, validated: kind, vocabulary, shapes, offsets, every event in range.
// InputError naming the file, the key and the value otherwise.
TokenDataset read_token_dataset(const std::filesystem::path& path);

}  // namespace cadenza
