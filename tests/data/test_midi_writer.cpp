// The MIDI writer: write-then-read round trips exactly, the file layout is format 1 with a
// conductor track, invalid values are refused, and files appear atomically.
#include <gtest/gtest.h>

#include <string>

#include "core/error.hpp"
#include "data/midi.hpp"
#include "test_midi_support.hpp"

namespace cadenza::testing {
namespace {

MidiFile round_trip(const MidiFile& midi) {
  return parse_midi(serialize_midi(midi), "written");
}

// Several parts, channels, overlapping and adjacent notes of one pitch, tempo and meter changes.
MidiFile multi_part_piece() {
  MidiFile midi;
  midi.format = 1;
  midi.ticks_per_quarter = 384;
  midi.tracks = 4;
  midi.track_names = {"conductor", "melody", "", "bass"};
  midi.tempo_map = {{0, 500000}, {1536, 428571}, {1536, 600000}, {3072, 1000000}};
  midi.time_signatures = {{0, 4, 4}, {1536, 3, 4}, {2688, 7, 8}};
  midi.notes = {
      {0, 384, 72, 90, 0, 1},      {0, 1536, 36, 70, 2, 3},   {0, 768, 72, 60, 0, 1},
      {384, 768, 74, 91, 0, 1},    {768, 1152, 76, 92, 0, 1}, {1152, 1536, 76, 93, 0, 1},
      {1536, 3072, 43, 70, 2, 3},  {1600, 1700, 80, 1, 0, 1}, {1650, 1800, 80, 127, 0, 1},
      {3000, 3100, 38, 100, 9, 3},
  };
  std::sort(midi.notes.begin(), midi.notes.end(), [](const MidiNote& a, const MidiNote& b) {
    return std::tie(a.start_tick, a.pitch, a.track, a.channel, a.end_tick, a.velocity) <
           std::tie(b.start_tick, b.pitch, b.track, b.channel, b.end_tick, b.velocity);
  });
  return midi;
}

TEST(MidiWriter, RoundTripIsExact) {
  const MidiFile midi = multi_part_piece();
  expect_same_midi(midi, round_trip(midi), "multi-part piece");
}

TEST(MidiWriter, SmpteDivisionRoundTrips) {
  MidiFile midi = multi_part_piece();
  midi.ticks_per_quarter = 0;
  midi.smpte_frames_per_second = 29;
  midi.ticks_per_smpte_frame = 80;
  expect_same_midi(midi, round_trip(midi), "SMPTE piece");
}

TEST(MidiWriter, GapsBeyondTheLargestDeltaAreBridged) {
  MidiFile midi;
  midi.tracks = 1;
  midi.track_names = {""};
  midi.notes = {{0, 10, 60, 64, 0, 0}, {0x30000000LL, 0x30000000LL + 5, 61, 64, 0, 0}};
  expect_same_midi(midi, round_trip(midi), "long gap");
}

TEST(MidiWriter, LayoutIsFormatOneWithAConductorTrack) {
  MidiFile midi;
  midi.ticks_per_quarter = 96;
  midi.tempo_map = {{0, 400000}};
  midi.notes = {{0, 96, 60, 80, 0, 1}, {0, 96, 64, 80, 1, 2}};
  const Bytes bytes = serialize_midi(midi);
  // MThd, length 6, format 1, 3 tracks, 96 ticks per quarter.
  const Bytes expected_header = {'M', 'T', 'h', 'd', 0, 0, 0, 6, 0, 1, 0, 3, 0, 96};
  ASSERT_GE(bytes.size(), expected_header.size());
  EXPECT_TRUE(std::equal(expected_header.begin(), expected_header.end(), bytes.begin()));
  // The conductor track: tempo 400000 (0x061A80) then end of track, nothing else.
  const Bytes conductor = track({0x00, 0xFF, 0x51, 0x03, 0x06, 0x1A, 0x80, 0x00, 0xFF, 0x2F, 0});
  EXPECT_TRUE(std::equal(conductor.begin(), conductor.end(), bytes.begin() + 14));
  const MidiFile back = parse_midi(bytes, "layout");
  EXPECT_EQ(back.tracks, 3);
  EXPECT_EQ(back.notes[0].track, 1);
  EXPECT_EQ(back.notes[1].track, 2);
}

TEST(MidiWriter, NotesOnTrackZeroGiveASingleTrackFile) {
  MidiFile midi;
  midi.tempo_map = {{0, 500000}};
  midi.time_signatures = {{0, 2, 2}};
  midi.notes = {{0, 480, 60, 80, 0, 0}, {480, 960, 62, 80, 0, 0}};
  const Bytes bytes = serialize_midi(midi);
  EXPECT_EQ(bytes[11], 1) << "track count";
  const MidiFile back = parse_midi(bytes, "single track");
  EXPECT_EQ(back.tracks, 1);
  ASSERT_EQ(back.tempo_map.size(), 1u);
  ASSERT_EQ(back.time_signatures.size(), 1u);
  EXPECT_EQ(back.time_signatures[0].denominator, 2);
  expect_same_notes(midi.notes, back.notes, "single track");
}

TEST(MidiWriter, EverySharedFileThatParsesRoundTrips) {
  int parsed = 0;
  for (const auto& path : files_in(test_midi_dir(), ".mid")) {
    MidiFile midi;
    try {
      midi = read_midi(path);
    } catch (const InputError&) {
      continue;  // the reader tests check which files are refused and why
    }
    ++parsed;
    midi.format = 1;
    expect_same_midi(midi, round_trip(midi), path.filename().string());
  }
  EXPECT_EQ(parsed, 69);
}

TEST(MidiWriter, EveryNottinghamFileRoundTrips) {
  const auto files = files_in(nottingham_dir(), ".mid");
  ASSERT_EQ(files.size(), 1034u);
  for (const auto& path : files) {
    MidiFile midi = read_midi(path);
    midi.format = 1;
    expect_same_midi(midi, round_trip(midi), path.filename().string());
  }
}

TEST(MidiWriter, InvalidValuesAreRefusedNamingTheField) {
  const auto expect_refusal = [](const MidiFile& midi, std::string_view fragment) {
    try {
      serialize_midi(midi);
      ADD_FAILURE() << "serialize_midi accepted a file with " << fragment;
    } catch (const InputError& error) {
      EXPECT_NE(std::string(error.what()).find(fragment), std::string::npos) << error.what();
    }
  };
  MidiFile midi;
  midi.notes = {{0, 10, 128, 80, 0, 0}};
  expect_refusal(midi, "pitch 128 (expected 0..127)");
  midi.notes = {{10, 10, 60, 80, 0, 0}};
  expect_refusal(midi, "spans ticks [10, 10)");
  midi.notes = {{0, 10, 60, 0, 0, 0}};
  expect_refusal(midi, "velocity 0 (expected 1..127)");
  midi.notes = {{0, 10, 60, 80, 16, 0}};
  expect_refusal(midi, "channel 16");
  midi.notes.clear();
  midi.tempo_map = {{0, 0x1000000}};
  expect_refusal(midi, "16777216 microseconds");
  midi.tempo_map.clear();
  midi.time_signatures = {{0, 3, 6}};
  expect_refusal(midi, "time signature 3/6");
  midi.time_signatures.clear();
  midi.ticks_per_quarter = 40000;
  expect_refusal(midi, "ticks_per_quarter 40000");
}

TEST(MidiWriter, WriteIsAtomicAndLeavesNoTemporaryFiles) {
  ScratchDir scratch;
  const auto path = scratch / "piece.mid";
  const MidiFile midi = multi_part_piece();
  write_midi(path, midi);
  const std::string written = slurp(path);
  const Bytes expected = serialize_midi(midi);
  EXPECT_EQ(written, std::string(expected.begin(), expected.end()));
  expect_same_midi(midi, read_midi(path), "written file");

  // A refused write names the path and leaves the existing file untouched.
  MidiFile invalid = midi;
  invalid.notes.front().pitch = -1;
  try {
    write_midi(path, invalid);
    ADD_FAILURE() << "write_midi accepted pitch -1";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find(path.string()), std::string::npos) << error.what();
  }
  EXPECT_EQ(slurp(path), written);
  EXPECT_EQ(files_in(scratch.path(), "").size(), 1u) << "a temporary file was left behind";
}

}  // namespace
}  // namespace cadenza::testing
