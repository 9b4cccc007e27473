// Helpers for the MIDI tests: building Standard MIDI File bytes by hand, comparing MidiFiles, and
// locating the shared MIDI corpora.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "data/midi.hpp"
#include "support/process.hpp"

namespace cadenza::testing {

using Bytes = std::vector<uint8_t>;

inline Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& part : parts)
    out.insert(out.end(), part.begin(), part.end());
  return out;
}

// A chunk: 4-byte tag, big-endian 32-bit length, body.
inline Bytes chunk(std::string_view tag, const Bytes& body) {
  Bytes out(tag.begin(), tag.end());
  const auto length = static_cast<uint32_t>(body.size());
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<uint8_t>(length >> shift));
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

// MThd with the given format, track count and raw 16-bit division word.
inline Bytes header(int format, int tracks, uint16_t division) {
  return chunk("MThd", {0, static_cast<uint8_t>(format), static_cast<uint8_t>(tracks >> 8),
                        static_cast<uint8_t>(tracks), static_cast<uint8_t>(division >> 8),
                        static_cast<uint8_t>(division)});
}

inline Bytes track(const Bytes& events) {
  return chunk("MTrk", events);
}

inline const Bytes kEndOfTrack = {0x00, 0xFF, 0x2F, 0x00};

// A format-0/1 file with 96 ticks per quarter and one track holding `events` + end of track.
inline Bytes single_track_file(const Bytes& events) {
  return concat({header(0, 1, 96), track(concat({events, kEndOfTrack}))});
}

inline MidiFile parse(const Bytes& bytes) {
  return parse_midi(bytes, "hand-made.mid");
}

inline std::filesystem::path test_midi_dir() {
  return shared_dir() / "midi" / "test-midi-files";
}
inline std::filesystem::path nottingham_dir() {
  return shared_dir() / "midi" / "nottingham";
}

// Regular files of `dir` whose name ends with `suffix` ("" for all but *.md), sorted.
inline std::vector<std::filesystem::path> files_in(const std::filesystem::path& dir,
                                                   std::string_view suffix) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    const bool wanted = suffix.empty() ? !name.ends_with(".md") : name.ends_with(suffix);
    if (entry.is_regular_file() && wanted) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

inline void expect_same_notes(const std::vector<MidiNote>& expected,
                              const std::vector<MidiNote>& actual, std::string_view what) {
  ASSERT_EQ(expected.size(), actual.size()) << what;
  for (size_t i = 0; i < expected.size(); ++i) {
    const MidiNote& a = expected[i];
    const MidiNote& b = actual[i];
    EXPECT_TRUE(a.start_tick == b.start_tick && a.end_tick == b.end_tick && a.pitch == b.pitch &&
                a.velocity == b.velocity && a.channel == b.channel && a.track == b.track)
        << what << ": note " << i << " expected [" << a.start_tick << ", " << a.end_tick
        << ") pitch " << a.pitch << " velocity " << a.velocity << " channel " << a.channel
        << " track " << a.track << ", got [" << b.start_tick << ", " << b.end_tick << ") pitch "
        << b.pitch << " velocity " << b.velocity << " channel " << b.channel << " track "
        << b.track;
  }
}

// Every field of two MidiFiles.
inline void expect_same_midi(const MidiFile& expected, const MidiFile& actual,
                             std::string_view what) {
  EXPECT_EQ(expected.format, actual.format) << what;
  EXPECT_EQ(expected.ticks_per_quarter, actual.ticks_per_quarter) << what;
  EXPECT_EQ(expected.smpte_frames_per_second, actual.smpte_frames_per_second) << what;
  EXPECT_EQ(expected.ticks_per_smpte_frame, actual.ticks_per_smpte_frame) << what;
  EXPECT_EQ(expected.tracks, actual.tracks) << what;
  EXPECT_EQ(expected.track_names, actual.track_names) << what;
  ASSERT_EQ(expected.tempo_map.size(), actual.tempo_map.size()) << what;
  for (size_t i = 0; i < expected.tempo_map.size(); ++i) {
    EXPECT_EQ(expected.tempo_map[i].tick, actual.tempo_map[i].tick) << what;
    EXPECT_EQ(expected.tempo_map[i].microseconds_per_quarter,
              actual.tempo_map[i].microseconds_per_quarter)
        << what;
  }
  ASSERT_EQ(expected.time_signatures.size(), actual.time_signatures.size()) << what;
  for (size_t i = 0; i < expected.time_signatures.size(); ++i) {
    EXPECT_EQ(expected.time_signatures[i].tick, actual.time_signatures[i].tick) << what;
    EXPECT_EQ(expected.time_signatures[i].numerator, actual.time_signatures[i].numerator) << what;
    EXPECT_EQ(expected.time_signatures[i].denominator, actual.time_signatures[i].denominator)
        << what;
  }
  expect_same_notes(expected.notes, actual.notes, what);
}

}  // namespace cadenza::testing
