// Conversion between notes and piano rolls: quantisation, range and drum handling, SMPTE time,
// and roll -> MIDI -> roll identity.
#include <gtest/gtest.h>

#include <string>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "data/midi.hpp"
#include "test_midi_support.hpp"

namespace cadenza::testing {
namespace {

MidiFile notes_at_480(std::vector<MidiNote> notes) {
  MidiFile midi;
  midi.ticks_per_quarter = 480;
  midi.notes = std::move(notes);
  return midi;
}

// Frames where column `column` is on, as a string of 0/1 for readable failures.
std::string column_string(const PianoRoll& roll, int column) {
  std::string out;
  for (int64_t frame = 0; frame < roll.frames; ++frame)
    out += roll.at(frame, column) ? '1' : '0';
  return out;
}

TEST(MidiPianoRoll, NotesAreQuantisedToTheNearestFrame) {
  // 4 frames per quarter at 480 ticks per quarter: 120 ticks per frame.
  const MidiFile midi = notes_at_480({
      {0, 480, 60, 80, 0, 0},     // exactly frames 0..3
      {59, 61, 62, 80, 0, 0},     // starts at 0.49 -> 0, ends at 0.51 -> 1
      {60, 180, 64, 80, 0, 0},    // 0.5 and 1.5 round up: frame 1 only
      {130, 140, 65, 80, 0, 0},   // rounds to zero length: keeps its start frame
      {700, 1000, 67, 80, 0, 0},  // 5.83 -> 6, 8.33 -> 8
  });
  const PianoRoll roll = midi_to_piano_roll(midi, {});
  EXPECT_EQ(roll.frames, 8);
  EXPECT_EQ(roll.pitches, 88);
  EXPECT_EQ(roll.lowest_pitch, 21);
  ASSERT_EQ(roll.cells.size(), 8u * 88u);
  EXPECT_EQ(column_string(roll, 60 - 21), "11110000");
  EXPECT_EQ(column_string(roll, 62 - 21), "10000000");
  EXPECT_EQ(column_string(roll, 64 - 21), "01000000");
  EXPECT_EQ(column_string(roll, 65 - 21), "01000000");
  EXPECT_EQ(column_string(roll, 67 - 21), "00000011");
  int active = 0;
  for (const uint8_t cell : roll.cells)
    active += cell;
  EXPECT_EQ(active, 4 + 1 + 1 + 1 + 2);
}

TEST(MidiPianoRoll, NotesOutsideTheRangeAreDroppedAndCounted) {
  const MidiFile midi = notes_at_480({{0, 480, 20, 80, 0, 0},
                                      {0, 480, 21, 80, 0, 0},
                                      {0, 480, 108, 80, 0, 0},
                                      {0, 480, 109, 80, 0, 0},
                                      {480, 960, 127, 80, 0, 0}});
  int64_t dropped = -1;
  const PianoRoll roll = midi_to_piano_roll(midi, {}, &dropped);
  EXPECT_EQ(dropped, 3);
  EXPECT_EQ(roll.frames, 4) << "the roll ends with the last kept note";
  EXPECT_EQ(column_string(roll, 0), "1111");
  EXPECT_EQ(column_string(roll, 87), "1111");

  PianoRollOptions narrow;
  narrow.lowest_pitch = 100;
  narrow.pitches = 28;
  const PianoRoll top = midi_to_piano_roll(midi, narrow, &dropped);
  EXPECT_EQ(dropped, 2);
  EXPECT_EQ(top.frames, 8);
  EXPECT_EQ(column_string(top, 108 - 100), "11110000");
  EXPECT_EQ(column_string(top, 109 - 100), "11110000");
  EXPECT_EQ(column_string(top, 127 - 100), "00001111");
}

TEST(MidiPianoRoll, DrumsAreExcludedUnlessAskedFor) {
  const MidiFile midi = notes_at_480({{0, 480, 60, 80, 0, 0}, {480, 960, 38, 80, 9, 0}});
  int64_t dropped = -1;
  const PianoRoll without = midi_to_piano_roll(midi, {}, &dropped);
  EXPECT_EQ(dropped, 0) << "drums are excluded, not counted as out of range";
  EXPECT_EQ(without.frames, 4);
  EXPECT_EQ(column_string(without, 38 - 21), "0000");
  PianoRollOptions with_drums;
  with_drums.exclude_drums = false;
  const PianoRoll with = midi_to_piano_roll(midi, with_drums);
  EXPECT_EQ(column_string(with, 38 - 21), "00001111");
}

TEST(MidiPianoRoll, SmpteTicksGoThroughTheTempoMap) {
  // 25 fps x 40 ticks = 1000 ticks per second. 120 bpm until tick 1000 (2 quarters), then 60 bpm.
  MidiFile midi;
  midi.ticks_per_quarter = 0;
  midi.smpte_frames_per_second = 25;
  midi.ticks_per_smpte_frame = 40;
  midi.tempo_map = {{1000, 1000000}};
  midi.notes = {{250, 500, 60, 80, 0, 0}, {1000, 1500, 62, 80, 0, 0}};
  const PianoRoll roll = midi_to_piano_roll(midi, {});
  // Note 1: quarters 0.5..1 -> frames 2..3. Note 2: quarters 2..2.5 -> frames 8..9.
  EXPECT_EQ(roll.frames, 10);
  EXPECT_EQ(column_string(roll, 60 - 21), "0011000000");
  EXPECT_EQ(column_string(roll, 62 - 21), "0000000011");
}

TEST(MidiPianoRoll, RollToMidiToRollIsTheIdentity) {
  for (const int frames_per_quarter : {1, 3, 4, 7, 24, 960}) {
    CounterRng rng(derive_key(2024, static_cast<uint64_t>(frames_per_quarter)));
    PianoRoll roll;
    roll.frames = 200;
    roll.cells.resize(200 * 88);
    for (uint8_t& cell : roll.cells)
      cell = rng.uniform() < 0.2f;
    roll.at(roll.frames - 1, 40) = 1;  // trailing silence is not represented in MIDI
    const MidiFile midi = piano_roll_to_midi(roll, frames_per_quarter, 400000, 77);
    EXPECT_EQ(midi.ticks_per_quarter % frames_per_quarter, 0);
    EXPECT_GE(midi.ticks_per_quarter, 480);
    // Through the file format too.
    const MidiFile read_back = parse_midi(serialize_midi(midi), "roll");
    expect_same_midi(midi, read_back, "roll midi");
    PianoRollOptions options;
    options.frames_per_quarter = frames_per_quarter;
    const PianoRoll again = midi_to_piano_roll(read_back, options);
    EXPECT_EQ(again.frames, roll.frames) << frames_per_quarter;
    EXPECT_TRUE(again.cells == roll.cells) << frames_per_quarter << " frames per quarter";
  }
}

TEST(MidiPianoRoll, RollToMidiMakesOneNotePerRun) {
  PianoRoll roll;
  roll.frames = 6;
  roll.pitches = 2;
  roll.lowest_pitch = 60;
  roll.cells = {1, 0,  //
                1, 1,  //
                0, 1,  //
                1, 1,  //
                1, 0,  //
                0, 0};
  const MidiFile midi = piano_roll_to_midi(roll, 4, 500000, 100);
  EXPECT_EQ(midi.ticks_per_quarter, 480);
  ASSERT_EQ(midi.tempo_map.size(), 1u);
  EXPECT_EQ(midi.tempo_map[0].microseconds_per_quarter, 500000);
  const std::vector<MidiNote> expected = {
      {0, 240, 60, 100, 0, 1}, {120, 480, 61, 100, 0, 1}, {360, 600, 60, 100, 0, 1}};
  expect_same_notes(expected, midi.notes, "runs");
}

TEST(MidiPianoRoll, NottinghamTunesConvert) {
  int64_t frames = 0;
  for (const auto& path : files_in(nottingham_dir(), ".mid")) {
    int64_t dropped = -1;
    const PianoRoll roll = midi_to_piano_roll(read_midi(path), {}, &dropped);
    EXPECT_EQ(dropped, 0) << path;
    EXPECT_GT(roll.frames, 0) << path;
    frames += roll.frames;
  }
  EXPECT_GT(frames, 100000);
}

TEST(MidiPianoRoll, InvalidOptionsAndOversizedRollsAreRefused) {
  const MidiFile midi = notes_at_480({{0, 480, 60, 80, 0, 0}});
  PianoRollOptions options;
  options.frames_per_quarter = 0;
  EXPECT_THROW(midi_to_piano_roll(midi, options), ConfigError);
  options = {};
  options.lowest_pitch = 100;
  options.pitches = 30;
  try {
    midi_to_piano_roll(midi, options);
    ADD_FAILURE() << "a range past pitch 127 was accepted";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("pitches = 30"), std::string::npos) << error.what();
  }
  const MidiFile long_piece = notes_at_480({{0x7FFFFFFFFFLL, 0x7FFFFFFFFFLL + 480, 60, 80, 0, 0}});
  EXPECT_THROW(midi_to_piano_roll(long_piece, {}), InputError);
  PianoRoll ragged;
  ragged.frames = 3;
  ragged.cells.resize(10);
  EXPECT_THROW(piano_roll_to_midi(ragged, 4, 500000), InputError);
  EXPECT_THROW(piano_roll_to_midi(PianoRoll{}, 4, 500000, 0), ConfigError);
}

}  // namespace
}  // namespace cadenza::testing
