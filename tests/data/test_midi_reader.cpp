// The MIDI reader: the shared edge-case corpus, and each rule of framework/data/midi.hpp on
// hand-built files.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "core/error.hpp"
#include "data/midi.hpp"
#include "test_midi_support.hpp"

namespace cadenza::testing {
namespace {

// Expects parse(bytes) to throw InputError whose message contains every one of `fragments`.
void expect_input_error(const Bytes& bytes, std::initializer_list<std::string_view> fragments) {
  try {
    parse(bytes);
    ADD_FAILURE() << "parse succeeded; expected an error mentioning " << *fragments.begin();
  } catch (const InputError& error) {
    const std::string message = error.what();
    for (const std::string_view fragment : fragments) {
      EXPECT_NE(message.find(fragment), std::string::npos)
          << "message \"" << message << "\" lacks \"" << fragment << "\"";
    }
  }
}

// The C-major scale most jazz-soft test files play: 8 quarter notes from middle C at 96 tpq.
void expect_c_major_scale(const MidiFile& midi, std::string_view what) {
  const int pitches[] = {60, 62, 64, 65, 67, 69, 71, 72};
  ASSERT_EQ(midi.notes.size(), 8u) << what;
  for (size_t i = 0; i < 8; ++i) {
    EXPECT_EQ(midi.notes[i].pitch, pitches[i]) << what;
    EXPECT_EQ(midi.notes[i].start_tick, 96 * static_cast<int64_t>(i)) << what;
    EXPECT_EQ(midi.notes[i].end_tick, 96 * static_cast<int64_t>(i + 1)) << what;
  }
}

TEST(MidiReader, EverySharedTestFileParsesOrFailsNamingTheFile) {
  const std::set<std::string> expected_failures = {
      "test-corrupt-file-missing-byte.mid",  // its track chunk claims one byte more than exists
      "test-empty-file.mid", "test-not-a-midi-file.mid", "test-syx-7e-06-01-id-request.syx"};
  const auto files = files_in(test_midi_dir(), "");
  ASSERT_EQ(files.size(), 73u) << "the corpus in " << test_midi_dir() << " changed";
  for (const auto& path : files) {
    const std::string name = path.filename().string();
    if (expected_failures.contains(name)) {
      try {
        read_midi(path);
        ADD_FAILURE() << name << " parsed; expected an InputError";
      } catch (const InputError& error) {
        const std::string message = error.what();
        EXPECT_NE(message.find(path.string()), std::string::npos) << message;
        EXPECT_NE(message.find("byte offset"), std::string::npos) << message;
      }
    } else {
      EXPECT_NO_THROW(read_midi(path)) << name;
    }
  }
}

TEST(MidiReader, SharedScaleFilesGiveTheScale) {
  for (const char* name :
       {"test-c-major-scale.mid", "test-running-status-metaevent.mid",
        "test-running-status-sysex.mid", "test-non-midi-track.mid", "test-illegal-message-all.mid",
        "test-illegal-message-f2-xx-xx.mid", "test-illegal-message-f4.mid", "test-vlq-2-byte.mid",
        "test-vlq-3-byte.mid", "test-vlq-4-byte.mid", "test-corrupt-file-extra-byte.mid",
        "test-smpte-offset.mid"}) {
    expect_c_major_scale(read_midi(test_midi_dir() / name), name);
  }
}

TEST(MidiReader, FormatZeroTwoTracksShareOneTimeLine) {
  const MidiFile midi = read_midi(test_midi_dir() / "test-2-tracks-type-0.mid");
  EXPECT_EQ(midi.format, 0);
  EXPECT_EQ(midi.tracks, 2);
  ASSERT_EQ(midi.notes.size(), 16u);
  // Both scales start together at tick 96 on channels 0 and 1.
  EXPECT_EQ(midi.notes[0].start_tick, 96);
  EXPECT_EQ(midi.notes[1].start_tick, 96);
  EXPECT_EQ(midi.notes[0].track + midi.notes[1].track, 1);
  // Only the first track has a name event (FF 03); the second has text events only.
  ASSERT_EQ(midi.track_names.size(), 2u);
  EXPECT_TRUE(midi.track_names[0].starts_with("Standard MIDI file")) << midi.track_names[0];
  EXPECT_EQ(midi.track_names[1], "");
}

TEST(MidiReader, FormatTwoTracksAreLaidEndToEnd) {
  const MidiFile midi = read_midi(test_midi_dir() / "test-2-tracks-type-2.mid");
  EXPECT_EQ(midi.format, 2);
  ASSERT_EQ(midi.notes.size(), 16u);
  // Track 0 lasts 96 + 8 * 96 ticks; track 1 then starts with 96 ticks of rest.
  for (size_t i = 0; i < 8; ++i) {
    EXPECT_EQ(midi.notes[i].track, 0);
    EXPECT_EQ(midi.notes[i].start_tick, 96 + 96 * static_cast<int64_t>(i));
    EXPECT_EQ(midi.notes[8 + i].track, 1);
    EXPECT_EQ(midi.notes[8 + i].start_tick, 864 + 96 + 96 * static_cast<int64_t>(i));
  }
}

TEST(MidiReader, RunningStatusContinuesAcrossMetaAndSysexEvents) {
  const MidiFile midi = parse(single_track_file({
      0x00, 0x90, 60,   100,         // note-on, explicit status
      0x10, 62,   101,               // running status note-on
      0x00, 0xFF, 0x01, 0x01, 'x',   // text meta event
      0x10, 60,   0,                 // running status continues: note-off (velocity 0)
      0x00, 0xF0, 0x02, 0x7E, 0xF7,  // sysex
      0x10, 62,   0,                 // still running status
  }));
  ASSERT_EQ(midi.notes.size(), 2u);
  EXPECT_EQ(midi.notes[0].pitch, 60);
  EXPECT_EQ(midi.notes[0].start_tick, 0);
  EXPECT_EQ(midi.notes[0].end_tick, 32);
  EXPECT_EQ(midi.notes[0].velocity, 100);
  EXPECT_EQ(midi.notes[1].pitch, 62);
  EXPECT_EQ(midi.notes[1].start_tick, 16);
  EXPECT_EQ(midi.notes[1].end_tick, 48);
  EXPECT_EQ(midi.notes[1].velocity, 101);
}

TEST(MidiReader, RunningStatusWithoutAnyStatusIsRejected) {
  expect_input_error(single_track_file({0x00, 60, 100}),
                     {"hand-made.mid", "byte offset 23", "running status"});
}

TEST(MidiReader, FourByteQuantitiesAreReadAndFiveByteOnesRejected) {
  const MidiFile midi = parse(single_track_file({
      0x00, 0x90, 60, 100,                   //
      0xFF, 0xFF, 0xFF, 0x7F, 0x80, 60, 64,  // delta 0x0FFFFFFF, the largest a file can hold
  }));
  ASSERT_EQ(midi.notes.size(), 1u);
  EXPECT_EQ(midi.notes[0].end_tick, 0x0FFFFFFF);
  // The track body starts at byte 22; the second event's delta starts at 26.
  expect_input_error(
      single_track_file({0x00, 0x90, 60, 100, 0x81, 0x80, 0x80, 0x80, 0x00, 0x80, 60, 64}),
      {"hand-made.mid", "byte offset 26", "longer than 4 bytes"});
}

TEST(MidiReader, NoteOnWithVelocityZeroEndsTheNote) {
  const MidiFile midi = parse(single_track_file({0x00, 0x95, 70, 90, 0x30, 0x95, 70, 0}));
  ASSERT_EQ(midi.notes.size(), 1u);
  EXPECT_EQ(midi.notes[0].end_tick, 0x30);
  EXPECT_EQ(midi.notes[0].channel, 5);
  EXPECT_EQ(midi.notes[0].velocity, 90);
}

TEST(MidiReader, OverlappingNotesOfOnePitchPairFirstInFirstOut) {
  const MidiFile midi = parse(single_track_file({
      0x00, 0x90, 60, 10,  // A on at 0
      0x0A, 0x90, 60, 20,  // B on at 10
      0x0A, 0x80, 60, 0,   // off at 20 ends A, the oldest
      0x0A, 0x80, 60, 0,   // off at 30 ends B
      0x0A, 0x80, 60, 0,   // off at 40 with nothing sounding: ignored
      0x00, 0x91, 60, 30,  // same pitch on another channel is a separate note
      0x05, 0x81, 60, 0,
  }));
  ASSERT_EQ(midi.notes.size(), 3u);
  EXPECT_EQ(midi.notes[0].start_tick, 0);
  EXPECT_EQ(midi.notes[0].end_tick, 20);
  EXPECT_EQ(midi.notes[0].velocity, 10);
  EXPECT_EQ(midi.notes[1].start_tick, 10);
  EXPECT_EQ(midi.notes[1].end_tick, 30);
  EXPECT_EQ(midi.notes[1].velocity, 20);
  EXPECT_EQ(midi.notes[2].start_tick, 40);
  EXPECT_EQ(midi.notes[2].end_tick, 45);
  EXPECT_EQ(midi.notes[2].channel, 1);
}

TEST(MidiReader, SoundingNotesEndWithTheirTrackAndZeroLengthNotesAreDropped) {
  const MidiFile midi = parse(concat({
      header(1, 2, 96),
      track({0x00, 0x90, 60,   100,  // never ended: closes at the end of track (tick 50)
             0x00, 0x90, 64,   100,  0x00, 0x80, 64, 0,  // ends where it starts: dropped
             0x32, 0xFF, 0x2F, 0x00,                     // end of track at 50
             0x00, 0x90, 67,   100}),                    // after the end of track: ignored
      track({0x00, 0x90, 72, 100, 0x07, 0xB0, 7, 100}),  // no end-of-track: ends at its last event
  }));
  ASSERT_EQ(midi.notes.size(), 2u);
  EXPECT_EQ(midi.notes[0].pitch, 60);
  EXPECT_EQ(midi.notes[0].end_tick, 50);
  EXPECT_EQ(midi.notes[1].pitch, 72);
  EXPECT_EQ(midi.notes[1].end_tick, 7);
  EXPECT_EQ(midi.notes[1].track, 1);
}

TEST(MidiReader, TempoAndTimeSignatureMapsGatherAllTracks) {
  const MidiFile midi = parse(concat({
      header(1, 2, 480),
      track({0x00, 0xFF, 0x03, 0x05, 'o',  'r',  'g',  'a',  'n',  //
             0x00, 0xFF, 0x51, 0x03, 0x07, 0xA1, 0x20,             // 500000 at 0
             0x00, 0xFF, 0x58, 0x04, 0x03, 0x02, 0x18, 0x08,       // 3/4 at 0
             0x83, 0x60, 0xFF, 0x51, 0x03, 0x0F, 0x42, 0x40,       // 1000000 at 480
             0x00, 0xFF, 0x2F, 0x00}),
      track({0x81, 0x70, 0xFF, 0x51, 0x03, 0x09, 0x27, 0xC0,  // 600000 at 240
             0x00, 0xFF, 0x58, 0x04, 0x06, 0x03, 0x18, 0x08,  // 6/8 at 240
             0x00, 0xFF, 0x2F, 0x00}),
  }));
  EXPECT_EQ(midi.ticks_per_quarter, 480);
  ASSERT_EQ(midi.tempo_map.size(), 3u);
  EXPECT_EQ(midi.tempo_map[0].tick, 0);
  EXPECT_EQ(midi.tempo_map[0].microseconds_per_quarter, 500000);
  EXPECT_EQ(midi.tempo_map[1].tick, 240);
  EXPECT_EQ(midi.tempo_map[1].microseconds_per_quarter, 600000);
  EXPECT_EQ(midi.tempo_map[2].tick, 480);
  EXPECT_EQ(midi.tempo_map[2].microseconds_per_quarter, 1000000);
  ASSERT_EQ(midi.time_signatures.size(), 2u);
  EXPECT_EQ(midi.time_signatures[0].numerator, 3);
  EXPECT_EQ(midi.time_signatures[0].denominator, 4);
  EXPECT_EQ(midi.time_signatures[1].tick, 240);
  EXPECT_EQ(midi.time_signatures[1].numerator, 6);
  EXPECT_EQ(midi.time_signatures[1].denominator, 8);
  EXPECT_EQ(midi.track_names, (std::vector<std::string>{"organ", ""}));
}

TEST(MidiReader, SmpteDivisionIsRecognised) {
  // 0xE7 = -25: 25 frames per second, 40 ticks per frame (millisecond ticks).
  const MidiFile midi = parse(concat({header(0, 1, 0xE728), track(kEndOfTrack)}));
  EXPECT_EQ(midi.smpte_frames_per_second, 25);
  EXPECT_EQ(midi.ticks_per_smpte_frame, 40);
  EXPECT_EQ(midi.ticks_per_quarter, 0);
  // 0xE2 = -30 is valid, 0xE6 = -26 is not.
  EXPECT_EQ(parse(concat({header(0, 1, 0xE250), track(kEndOfTrack)})).smpte_frames_per_second, 30);
  expect_input_error(concat({header(0, 1, 0xE628), track(kEndOfTrack)}),
                     {"byte offset 12", "26 frames per second"});
}

TEST(MidiReader, UnknownChunksAreSkipped) {
  const MidiFile midi = parse(concat({
      header(1, 1, 96), chunk("XFIH", {1, 2, 3, 0x90, 0xFF}),
      track({0x00, 0x90, 60, 100, 0x60, 0x80, 60, 0, 0x00, 0xFF, 0x2F, 0x00}),
      Bytes{0x2A},  // trailing byte after the last declared track: ignored
  }));
  EXPECT_EQ(midi.tracks, 1);
  ASSERT_EQ(midi.notes.size(), 1u);
  EXPECT_EQ(midi.notes[0].track, 0);
}

TEST(MidiReader, ChunkLongerThanTheFileIsRejected) {
  Bytes bytes = single_track_file({0x00, 0x90, 60, 100});
  bytes.pop_back();
  expect_input_error(bytes, {"hand-made.mid", "byte offset 14", "declares 8 bytes but only 7"});
  expect_input_error(concat({header(1, 2, 96), track(kEndOfTrack)}),
                     {"byte offset 26", "after 1 of the 2 tracks"});
}

TEST(MidiReader, EveryTruncationOfAFileFailsCleanlyOrParses) {
  const std::string content = slurp(test_midi_dir() / "test-karaoke-kar.mid");
  const Bytes whole(content.begin(), content.end());
  ASSERT_GT(whole.size(), 100u);
  for (size_t length = 0; length < whole.size(); ++length) {
    const Bytes prefix(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(length));
    // A prefix that cuts a chunk short must fail; none may crash or throw anything else.
    EXPECT_THROW(parse(prefix), InputError) << "prefix of " << length << " bytes";
  }
  EXPECT_EQ(parse(whole).notes.size(), 29u);
}

TEST(MidiReader, MalformedHeadersAndEventsAreRejectedWithTheirOffset) {
  expect_input_error({}, {"hand-made.mid", "byte offset 0", "empty file"});
  expect_input_error({'R', 'I', 'F', 'F', 0, 0},
                     {"byte offset 0", "expected 'MThd', found 'RIFF'"});
  expect_input_error(concat({header(3, 1, 96), track(kEndOfTrack)}),
                     {"byte offset 8", "unsupported SMF format 3"});
  expect_input_error(header(1, 0, 96), {"byte offset 10", "declares 0 tracks"});
  expect_input_error(concat({header(1, 1, 0), track(kEndOfTrack)}),
                     {"byte offset 12", "0 ticks per quarter"});
  expect_input_error(concat({chunk("MThd", {0, 1}), track(kEndOfTrack)}),
                     {"byte offset 4", "header chunk length 2"});
  // A status byte where a data byte must be.
  expect_input_error(single_track_file({0x00, 0x90, 60, 0x90}),
                     {"byte offset 25", "must be a data byte", "0x90"});
  // A meta event longer than its track.
  expect_input_error(single_track_file({0x00, 0xFF, 0x01, 0x7F, 'a'}),
                     {"byte offset 26", "meta event 0x01 declares 127 bytes"});
  // A tempo event without its three bytes.
  expect_input_error(single_track_file({0x00, 0xFF, 0x51, 0x01, 0x07}),
                     {"tempo event has 1 data bytes"});
  // An event cut off by the end of its chunk.
  expect_input_error(concat({header(0, 1, 96), track({0x00, 0x90, 60})}),
                     {"byte offset 25", "chunk ends here"});
}

TEST(MidiReader, SystemMessagesAreSkippedWithTheirWireLength) {
  const MidiFile midi = parse(single_track_file({
      0x00, 0xF2, 0x01, 0x02,  // song position: 2 data bytes
      0x00, 0xF1, 0x7F,        // time code quarter frame: 1
      0x00, 0xF8,              // clock: none
      0x00, 0x90, 60,   100,   //
      0x00, 0xFE,              // active sensing: none, running status unaffected
      0x60, 62,   100,         // running status note-on
      0x00, 0x80, 60,   0,     // off at 0x60
      0x10, 0x80, 62,   0,     // off at 0x70
  }));
  ASSERT_EQ(midi.notes.size(), 2u);
  EXPECT_EQ(midi.notes[0].end_tick, 0x60);
  EXPECT_EQ(midi.notes[1].start_tick, 0x60);
  EXPECT_EQ(midi.notes[1].end_tick, 0x70);
}

TEST(MidiReader, MissingFileNamesThePath) {
  try {
    read_midi(test_midi_dir() / "no-such-file.mid");
    ADD_FAILURE() << "read_midi of a missing file succeeded";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("no-such-file.mid"), std::string::npos);
  }
}

}  // namespace
}  // namespace cadenza::testing
