// How each fuzz target feeds one input to its reader, shared by the libFuzzer driver
// (tests/fuzz/fuzz_target.cpp, built with -DCADENZA_FUZZ=ON by scripts/fuzz.sh) and by the
// regression test (tests/fuzz_regressions/test_fuzz_regressions.cpp, in cadenza_tests), so a
// saved reproducer goes through exactly the code that found it.
//
// A feed returns when the reader accepts the input and throws cadenza::Error when it refuses it.
// Anything else it throws (a raw nlohmann, HDF5 or std exception, or std::logic_error for a
// broken invariant checked here) is a finding, like a crash or a sanitizer report.
#pragma once

#include <hdf5.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "config/resolve.hpp"
#include "core/error.hpp"
#include "data/dataset.hpp"
#include "data/mat_import.hpp"
#include "data/midi.hpp"
#include "train/checkpoint_format.hpp"

namespace cadenza::fuzz {

using Bytes = std::span<const uint8_t>;
// Feeds `input` to a reader; `scratch` is an existing directory the feed may write files into.
using Feed = void (*)(Bytes input, const std::filesystem::path& scratch);

inline void write_input(const std::filesystem::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out.flush()) throw std::runtime_error("fuzz harness: cannot write " + path.string());
}

inline std::string_view as_text(Bytes input) {
  return {reinterpret_cast<const char*>(input.data()), input.size()};
}

// Runs `read` and then checks that it left no HDF5 file, group, dataset or attribute open, whether
// it returned or threw: a leaked handle would also make the next H5Fopen of the same path see the
// old file. (Datatypes are not counted: the HDF5 C++ library holds its predefined ones open.)
template <typename Read>
void expect_hdf5_closed(Read&& read) {
  const auto check = [] {
    const ssize_t open = H5Fget_obj_count(
        H5F_OBJ_ALL, H5F_OBJ_FILE | H5F_OBJ_GROUP | H5F_OBJ_DATASET | H5F_OBJ_ATTR);
    if (open != 0) {
      throw std::logic_error("the reader left " + std::to_string(open) + " HDF5 objects open");
    }
  };
  try {
    read();
  } catch (...) {
    check();
    throw;
  }
  check();
}

// --- config: an experiment file, the fragment it may extend, and overrides ------------------

// Separates the parts of a config input: experiment.json, then fragment.json, then one override
// per line. An input without a separator is just experiment.json (fragment.json is then absent).
inline constexpr std::string_view kConfigSeparator = "\n===\n";

inline void feed_config(Bytes input, const std::filesystem::path& scratch) {
  std::string_view rest = as_text(input);
  std::array<std::string_view, 3> parts;
  size_t count = 0;
  while (count + 1 < parts.size() && rest.find(kConfigSeparator) != std::string_view::npos) {
    const size_t at = rest.find(kConfigSeparator);
    parts[count++] = rest.substr(0, at);
    rest.remove_prefix(at + kConfigSeparator.size());
  }
  parts[count++] = rest;
  write_input(scratch / "experiment.json", parts[0]);
  std::filesystem::remove(scratch / "fragment.json");
  if (count > 1) write_input(scratch / "fragment.json", parts[1]);
  std::vector<std::string> overrides;
  for (std::string_view lines = parts[2]; !lines.empty();) {
    const size_t end = std::min(lines.find('\n'), lines.size());
    if (end > 0) overrides.emplace_back(lines.substr(0, end));
    lines.remove_prefix(std::min(end + 1, lines.size()));
  }
  config::resolve_experiment(scratch / "experiment.json", overrides);
}

// --- the HDF5 dataset, checkpoint and .mat readers: the input is the whole file --------------

inline void feed_dataset(Bytes input, const std::filesystem::path& scratch) {
  const auto path = scratch / "dataset.h5";
  write_input(path, as_text(input));
  // As `cadenza data inspect` does: the kind attribute picks the piano-roll or the token reader.
  expect_hdf5_closed([&] {
    if (read_dataset_header(path).info.kind == kTokensKind) {
      read_token_dataset(path);
    } else {
      read_dataset(path);
    }
  });
}

inline void feed_checkpoint(Bytes input, const std::filesystem::path& scratch) {
  const auto path = scratch / "checkpoint.h5";
  write_input(path, as_text(input));
  expect_hdf5_closed([&] { load_checkpoint(path); });
}

inline void feed_mat(Bytes input, const std::filesystem::path& scratch) {
  const auto path = scratch / "benchmark.mat";
  write_input(path, as_text(input));
  import_mat(path, "fuzz");
}

// --- MIDI: parse, then the writer round trip and the piano-roll conversion -----------------

inline bool same_midi(const MidiFile& a, const MidiFile& b) {
  const auto note_key = [](const MidiNote& n) {
    return std::tie(n.start_tick, n.end_tick, n.pitch, n.velocity, n.channel, n.track);
  };
  const auto tempo_key = [](const TempoChange& t) {
    return std::tie(t.tick, t.microseconds_per_quarter);
  };
  const auto signature_key = [](const TimeSignature& s) {
    return std::tie(s.tick, s.numerator, s.denominator);
  };
  return a.ticks_per_quarter == b.ticks_per_quarter &&
         a.smpte_frames_per_second == b.smpte_frames_per_second &&
         a.ticks_per_smpte_frame == b.ticks_per_smpte_frame && a.tracks == b.tracks &&
         a.track_names == b.track_names &&
         std::equal(a.notes.begin(), a.notes.end(), b.notes.begin(), b.notes.end(),
                    [&](const auto& x, const auto& y) { return note_key(x) == note_key(y); }) &&
         std::equal(a.tempo_map.begin(), a.tempo_map.end(), b.tempo_map.begin(), b.tempo_map.end(),
                    [&](const auto& x, const auto& y) { return tempo_key(x) == tempo_key(y); }) &&
         std::equal(a.time_signatures.begin(), a.time_signatures.end(), b.time_signatures.begin(),
                    b.time_signatures.end(), [&](const auto& x, const auto& y) {
                      return signature_key(x) == signature_key(y);
                    });
}

// A parsed file must survive the writer and read back the same, and must convert to a piano roll
// of consistent size or be refused with InputError (roll too long).
inline void feed_midi(Bytes input, const std::filesystem::path&) {
  const MidiFile midi = parse_midi(input, "fuzz-input");
  MidiFile again;
  try {
    again = parse_midi(serialize_midi(midi), "fuzz-input-rewritten");
  } catch (const Error& error) {
    throw std::logic_error(std::string("a parsed MIDI file does not survive the writer: ") +
                           error.what());
  }
  if (!same_midi(midi, again))
    throw std::logic_error("the MIDI writer round trip changed the file");
  try {
    const PianoRoll roll = midi_to_piano_roll(midi, {});
    if (roll.cells.size() != static_cast<size_t>(roll.frames * roll.pitches)) {
      throw std::logic_error("piano roll cells do not match frames x pitches");
    }
  } catch (const InputError&) {
  }
}

struct Target {
  std::string_view name;  // scripts/fuzz.sh TARGET; corpus and regressions folders
  Feed feed;
};

inline constexpr std::array<Target, 5> kTargets = {{
    {"config", feed_config},
    {"dataset", feed_dataset},
    {"checkpoint", feed_checkpoint},
    {"mat", feed_mat},
    {"midi", feed_midi},
}};

}  // namespace cadenza::fuzz
