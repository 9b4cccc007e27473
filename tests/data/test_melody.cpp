// Melody events (data/melody.hpp): extraction rules on hand-made files, the token dataset format
// and its validation, `cadenza data import --melody`, and a cross-check of the import against an
// independent extraction with python3-mido (tests/python/mido_melody.py) on a sample of tunes.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "data/dataset.hpp"
#include "data/loader.hpp"
#include "data/locate.hpp"
#include "data/melody.hpp"
#include "data/midi_import.hpp"
#include "test_midi_support.hpp"

namespace cadenza::testing {
namespace {

// A file of 4 ticks per quarter: each tick is one step of the default grid.
MidiFile grid_file(std::vector<MidiNote> notes) {
  MidiFile midi;
  midi.ticks_per_quarter = 4;
  midi.tracks = 2;
  midi.notes = std::move(notes);
  return midi;
}

MelodyOptions short_options() {
  MelodyOptions options;
  options.min_events = 2;
  return options;
}

std::vector<MelodyNote> notes_of(const MelodyExtraction& melody, size_t fragment,
                                 const MelodyVocabulary& vocabulary = {}) {
  return melody_notes(melody.fragments.at(fragment), vocabulary);
}

TEST(Melody, VocabularyHas36NoteOnsAndTwoControlEvents) {
  const MelodyVocabulary vocabulary;
  EXPECT_EQ(vocabulary.size(), 38);
  EXPECT_EQ(vocabulary.name(kNoEvent), "NO_EVENT");
  EXPECT_EQ(vocabulary.name(kNoteOff), "NOTE_OFF");
  EXPECT_EQ(vocabulary.note_on(48), 2);
  EXPECT_EQ(vocabulary.name(37), "NOTE_ON(83)");
  EXPECT_TRUE(vocabulary.text().starts_with("NO_EVENT,NOTE_OFF,NOTE_ON(48),NOTE_ON(49),"));
  EXPECT_TRUE(vocabulary.text().ends_with(",NOTE_ON(83)"));
  EXPECT_THROW(validate_vocabulary({100, 36}), ConfigError);
}

TEST(Melody, EventsMarkOnsetsEndsAndHolds) {
  const MelodyVocabulary vocabulary;
  // C4 for 2 steps, D4 straight after for 1 step, a rest of 2 steps, E4 for 3 steps.
  const std::vector<MelodyNote> notes = {{0, 2, 60}, {2, 1, 62}, {5, 3, 64}};
  const std::vector<int16_t> events = melody_events(notes, vocabulary);
  const std::vector<int16_t> expected = {vocabulary.note_on(60),
                                         kNoEvent,
                                         vocabulary.note_on(62),
                                         kNoteOff,
                                         kNoEvent,
                                         vocabulary.note_on(64),
                                         kNoEvent,
                                         kNoEvent,
                                         kNoteOff};
  EXPECT_EQ(events, expected);
  EXPECT_EQ(melody_notes(events, vocabulary), notes);
  const std::vector<int16_t> bad = {kNoEvent, 38};
  EXPECT_THROW(melody_notes(bad, vocabulary), InputError);
}

TEST(Melody, PolyphonyKeepsTheHighestNote) {
  // A chord C4-E4-G4 (G4 kept), then under the sounding G4 a lower A3 (dropped), then a higher C5
  // that cuts the G4 short.
  const auto melody = extract_melody(grid_file({{0, 8, 60, 90, 0, 0},
                                                {0, 8, 64, 90, 0, 0},
                                                {0, 6, 67, 90, 0, 0},
                                                {2, 4, 57, 90, 0, 0},
                                                {4, 10, 72, 90, 0, 0}}),
                                     short_options());
  ASSERT_EQ(melody.fragments.size(), 1u) << melody.skip_reason;
  EXPECT_EQ(notes_of(melody, 0), (std::vector<MelodyNote>{{0, 4, 67}, {4, 6, 72}}));
  EXPECT_EQ(melody.notes_dropped_polyphony, 3);
}

TEST(Melody, NotesAreQuantisedToTheGrid) {
  MidiFile midi;
  midi.ticks_per_quarter = 96;
  midi.tracks = 1;
  // 96 ticks per quarter, 4 steps per quarter: 24 ticks a step; 11 ticks rounds to 0, 12 to 1.
  midi.notes = {{11, 60, 60, 90, 0, 0}, {60, 100, 62, 90, 0, 0}, {100, 101, 64, 90, 0, 0}};
  const auto melody = extract_melody(midi, short_options());
  ASSERT_EQ(melody.fragments.size(), 1u) << melody.skip_reason;
  // Steps [0, 3), [3, 4) (rounded 2.5 up to 3 and 100 / 24 = 4.17 to 4), and [4, 5) at least one.
  EXPECT_EQ(notes_of(melody, 0), (std::vector<MelodyNote>{{0, 3, 60}, {3, 1, 62}, {4, 1, 64}}));
}

TEST(Melody, OutOfRangePitchesMoveByOctavesOrSkipTheFile) {
  const auto midi = grid_file({{0, 2, 40, 90, 0, 0}, {2, 4, 90, 90, 0, 0}, {4, 6, 60, 90, 0, 0}});
  const auto melody = extract_melody(midi, short_options());
  ASSERT_EQ(melody.fragments.size(), 1u) << melody.skip_reason;
  EXPECT_EQ(notes_of(melody, 0), (std::vector<MelodyNote>{{0, 2, 52}, {2, 2, 78}, {4, 2, 60}}));
  EXPECT_EQ(melody.notes_transposed, 2);

  auto options = short_options();
  options.out_of_range = OutOfRange::skip;
  const auto skipped = extract_melody(midi, options);
  EXPECT_TRUE(skipped.fragments.empty());
  EXPECT_EQ(skipped.skip_reason,
            "out of range: pitch 40 at step 0 is outside 48..83 (--out-of-range skip)");

  options.out_of_range = OutOfRange::transpose;
  options.vocabulary = {60, 5};
  const auto narrow = extract_melody(midi, options);
  EXPECT_TRUE(narrow.fragments.empty());
  EXPECT_NE(narrow.skip_reason.find("pitch 90 cannot be moved by octaves into 60..64"),
            std::string::npos)
      << narrow.skip_reason;
}

TEST(Melody, LongRestsSplitAndShortFragmentsAreDropped) {
  // Two notes, a rest of 3 steps, one note, a rest of 4 steps, two notes.
  const auto midi = grid_file({{0, 2, 60, 90, 0, 0},
                               {2, 4, 62, 90, 0, 0},
                               {7, 8, 64, 90, 0, 0},
                               {12, 14, 65, 90, 0, 0},
                               {14, 20, 67, 90, 0, 0}});
  auto options = short_options();
  options.max_rest_steps = 3;
  const auto melody = extract_melody(midi, options);
  ASSERT_EQ(melody.fragments.size(), 2u) << melody.skip_reason;
  EXPECT_EQ(notes_of(melody, 0), (std::vector<MelodyNote>{{0, 2, 60}, {2, 2, 62}, {7, 1, 64}}));
  EXPECT_EQ(notes_of(melody, 1), (std::vector<MelodyNote>{{0, 2, 65}, {2, 6, 67}}));

  options.min_events = 9;  // fragment 0 has 9 events (8 steps + the final NOTE_OFF), 1 has 9
  EXPECT_EQ(extract_melody(midi, options).fragments.size(), 2u);
  options.min_events = 10;
  const auto dropped = extract_melody(midi, options);
  EXPECT_TRUE(dropped.fragments.empty());
  EXPECT_EQ(dropped.fragments_too_short, 2);
  EXPECT_EQ(dropped.skip_reason,
            "too short: 2 fragment(s), the longest 9 events, fewer than --min-events 10");
}

TEST(Melody, TheVoiceIsTheChosenTrackOrChannelOrTheBusiestNonDrumTrack) {
  // Track 0: two notes; track 1: three notes; drums on channel 10 in track 1.
  auto midi = grid_file({{0, 2, 72, 90, 0, 0},
                         {2, 4, 74, 90, 0, 0},
                         {0, 1, 48, 90, 1, 1},
                         {1, 2, 50, 90, 1, 1},
                         {2, 3, 52, 90, 1, 1},
                         {0, 4, 36, 90, 9, 1},
                         {1, 4, 38, 90, 9, 1},
                         {2, 4, 40, 90, 9, 1}});
  auto options = short_options();
  auto busiest = extract_melody(midi, options);
  EXPECT_EQ(busiest.track, 1);
  EXPECT_EQ(notes_of(busiest, 0), (std::vector<MelodyNote>{{0, 1, 48}, {1, 1, 50}, {2, 1, 52}}));
  options.track = 0;
  EXPECT_EQ(notes_of(extract_melody(midi, options), 0),
            (std::vector<MelodyNote>{{0, 2, 72}, {2, 2, 74}}));
  options.track = 5;
  EXPECT_EQ(extract_melody(midi, options).skip_reason,
            "no notes on track 5 (the file has 2 tracks)");
  options.track = -1;
  options.channel = 9;
  EXPECT_EQ(notes_of(extract_melody(midi, options), 0),
            (std::vector<MelodyNote>{{0, 1, 48}, {1, 1, 50}, {2, 2, 52}}));

  midi.notes.erase(midi.notes.begin(), midi.notes.begin() + 5);
  EXPECT_EQ(extract_melody(midi, short_options()).skip_reason,
            "only drum notes (channel 10, excluded): 3");
  EXPECT_EQ(extract_melody(grid_file({}), short_options()).skip_reason, "no notes");
}

TEST(Melody, InvalidOptionsNameTheOption) {
  MelodyOptions options;
  options.max_rest_steps = -1;
  EXPECT_THROW(validate_melody_options(options), ConfigError);
  options = {};
  options.min_events = 1;
  EXPECT_THROW(validate_melody_options(options), ConfigError);
  options = {};
  options.steps_per_quarter = 0;
  EXPECT_THROW(validate_melody_options(options), ConfigError);
}

TokenDataset small_token_dataset() {
  TokenDataset dataset;
  dataset.info.kind = std::string(kTokensKind);
  dataset.info.name = "tiny";
  dataset.info.source = "hand";
  dataset.info.frames_per_quarter = 4;
  dataset.info.lowest_pitch = 48;
  dataset.info.num_pitches = 36;
  dataset.info.melody_track = 1;
  dataset.info.melody_channel = 3;
  const std::vector<int16_t> a = {2, 0, 1, 5, 0, 0, 1};
  const std::vector<int16_t> b = {37, 1};
  dataset.splits[0].append(a, "a.mid#0");
  dataset.splits[0].append(b, "a.mid#1");
  dataset.splits[2].append(a, "b.mid#0");
  return dataset;
}

TEST(TokenDataset, RoundTripsThroughHdf5AndH5pySeesInt16EventsAndTheVocabulary) {
  ScratchDir dir;
  const auto path = dir / "tokens.h5";
  const TokenDataset written = small_token_dataset();
  write_token_dataset(path, written);
  const TokenDataset read = read_token_dataset(path);
  EXPECT_EQ(read.info.kind, "tokens");
  EXPECT_EQ(read.info.lowest_pitch, 48);
  EXPECT_EQ(read.info.num_pitches, 36);
  EXPECT_EQ(read.info.melody_track, 1) << "the voice a MIDI primer is read from";
  EXPECT_EQ(read.info.melody_channel, 3);
  for (size_t s = 0; s < 3; ++s) {
    EXPECT_EQ(read.splits[s].events, written.splits[s].events);
    EXPECT_EQ(read.splits[s].offsets, written.splits[s].offsets);
    EXPECT_EQ(read.splits[s].names, written.splits[s].names);
  }
  EXPECT_EQ(read_dataset_header(path).counts[0].frames, 9);
  try {
    read_dataset(path);
    ADD_FAILURE() << "a token dataset read as a piano roll";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("kind is \"tokens\""), std::string::npos) << e.what();
  }
  const auto python = run_shell(
      "/usr/bin/python3 -c \"import h5py,sys; f=h5py.File(sys.argv[1]); e=f['train/events']; "
      "print(e.dtype, e[:].tolist(), f.attrs['kind'], f.attrs['vocabulary'].split(',')[2], "
      "len(f.attrs['vocabulary'].split(',')))\" " +
      quoted(path));
  ASSERT_EQ(python.exit_code, 0) << python.err;
  EXPECT_EQ(python.out, "int16 [2, 0, 1, 5, 0, 0, 1, 37, 1] tokens NOTE_ON(48) 38\n");
}

TEST(TokenDataset, BadFilesAreRefusedNamingTheKeyAndTheValue) {
  ScratchDir dir;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"f['train/events'][3] = 38", "split train: events[3] = 38; class ids run 0..37"},
      {"f['train/events'][0] = -1", "events[0] = -1"},
      {"f.attrs['vocabulary'] = 'NO_EVENT,NOTE_OFF'",
       "vocabulary attribute is \"NO_EVENT,NOTE_OFF\""},
      {"f.attrs['kind'] = 'words'",
       "kind attribute is \"words\"; expected \"piano_roll\" or \"tokens\""},
      {"f['train/offsets'][1] = 0", "offsets[0] = 0 is not below offsets[1] = 0"},
      {"f['valid'].attrs['events'] = 3", "offsets run from 0 to 0; expected 0 to events = 3"},
      {"f.attrs['melody_channel'] = 16", "melody_channel = 16; expected -1 (unset) or 0..15"},
  };
  for (const auto& [edit, message] : cases) {
    const auto path = dir / "bad.h5";
    write_token_dataset(path, small_token_dataset());
    const auto python = run_shell(
        "/usr/bin/python3 -c \"import h5py,sys; f=h5py.File(sys.argv[1], "
        "'r+'); " +
        edit + "\" " + quoted(path));
    ASSERT_EQ(python.exit_code, 0) << python.err;
    try {
      read_token_dataset(path);
      ADD_FAILURE() << edit << " was accepted";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << edit << ": " << e.what();
      EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
    }
  }
  TokenDataset bad = small_token_dataset();
  bad.splits[1].append(std::vector<int16_t>{0, 40}, "c.mid#0");
  EXPECT_THROW(write_token_dataset(dir / "never.h5", bad), InputError);
  EXPECT_FALSE(std::filesystem::exists(dir / "never.h5"));
}

TEST(CliMelodyImport, ImportsSkipsWithReasonsAndRefusesMelodyFlagsWithoutMelody) {
  ScratchDir dir;
  const auto tunes = dir / "tunes";
  std::filesystem::create_directories(tunes);
  MidiFile tune = grid_file({});
  for (int i = 0; i < 40; ++i)
    tune.notes.push_back({2 * i, 2 * i + 2, 60 + i % 7, 90, 0, 0});
  write_midi(tunes / "long.mid", tune);
  write_midi(tunes / "short.mid", grid_file({{0, 2, 60, 90, 0, 0}}));
  write_midi(tunes / "drums.mid", grid_file({{0, 8, 36, 90, 9, 0}}));
  std::ofstream(tunes / "notes.txt") << "not MIDI";
  const auto out = dir / "melodies.h5";
  const auto imported = run_cadenza("data import --melody " + quoted(tunes) + " --out " +
                                    quoted(out) + " --split-ratios 1,0,0");
  ASSERT_EQ(imported.exit_code, 0) << imported.err << imported.out;
  for (const char* line :
       {"skipped drums.mid: only drum notes (channel 10, excluded): 1",
        "skipped notes.txt: not a readable MIDI file",
        "skipped short.mid: too short: 1 fragment(s), the longest 3 events, fewer than "
        "--min-events 32",
        "imported the melodies of 1 of 4 files (3 skipped)", "skipped, too short: 1",
        "train       1 sequences        81 events"}) {
    EXPECT_NE(imported.out.find(line), std::string::npos) << line << "\n" << imported.out;
  }
  const TokenDataset dataset = read_token_dataset(out);
  EXPECT_EQ(dataset.splits[0].names, std::vector<std::string>{"long.mid#0"});
  const auto inspected = run_cadenza("data inspect " + quoted(out));
  EXPECT_EQ(inspected.exit_code, 0) << inspected.err;
  EXPECT_NE(inspected.out.find("38 classes: NO_EVENT, NOTE_OFF, NOTE_ON 48..83"), std::string::npos)
      << inspected.out;

  for (const auto& [arguments, message] : std::vector<std::pair<std::string, std::string>>{
           {"data import " + quoted(tunes) + " --out " + quoted(dir / "x.h5") + " --min-events 4",
            "--min-events applies to a melody import; add --melody"},
           {"data import --melody " + quoted(tunes / "long.mid") + " --out " + quoted(dir / "x.h5"),
            "--melody imports a folder of MIDI files"},
           {"data import --melody " + quoted(tunes) + " --out " + quoted(dir / "x.h5") +
                " --out-of-range fold",
            "--out-of-range"},
           {"data import --melody " + quoted(tunes) + " --out " + quoted(dir / "x.h5") +
                " --lowest-pitch 100",
            "lowest pitch 100 with 36 pitches"}}) {
    const auto result = run_cadenza(arguments);
    EXPECT_EQ(result.exit_code, 2) << arguments << "\n" << result.err;
    EXPECT_NE(result.err.find(message), std::string::npos) << arguments << "\n" << result.err;
    EXPECT_FALSE(std::filesystem::exists(dir / "x.h5"));
  }
}

// Every 20th Nottingham tune imported by cadenza (track 0 holds the melody) and extracted
// independently from mido's messages: every fragment's notes (onset, duration, pitch) agree.
TEST(MelodyMido, NottinghamSampleAgreesWithAnIndependentMidoExtraction) {
  ScratchDir dir;
  const auto sample = dir / "sample";
  std::filesystem::create_directories(sample);
  const auto tunes = files_in(nottingham_dir(), ".mid");
  ASSERT_GE(tunes.size(), 1000u) << "the Nottingham MIDI corpus is missing: " << nottingham_dir();
  std::string files;
  for (size_t i = 0; i < tunes.size(); i += 20) {
    std::filesystem::copy_file(tunes[i], sample / tunes[i].filename());
    files += " " + quoted(sample / tunes[i].filename());
  }
  const auto out = dir / "sample.h5";
  const auto imported = run_cadenza("data import --melody --track 0 " + quoted(sample) + " --out " +
                                    quoted(out) + " --split-ratios 1,0,0");
  ASSERT_EQ(imported.exit_code, 0) << imported.err << imported.out;
  const auto json_path = dir / "mido.json";
  const auto python = run_shell(fmt::format(
      "/usr/bin/python3 {} {} 4 48 36 0 16 32{}",
      quoted(source_dir() / "tests" / "python" / "mido_melody.py"), quoted(json_path), files));
  ASSERT_EQ(python.exit_code, 0) << "python3-mido is needed: " << python.err;
  const auto theirs = nlohmann::json::parse(slurp(json_path));

  const TokenDataset dataset = read_token_dataset(out);
  const SplitTokens& split = dataset.splits[0];
  std::map<std::string, std::vector<std::vector<MelodyNote>>> ours;
  for (int64_t i = 0; i < split.sequences(); ++i) {
    const std::string& name = split.names[static_cast<size_t>(i)];
    ours[name.substr(0, name.find('#'))].push_back(
        melody_notes(split.sequence(i), melody_vocabulary(dataset.info)));
  }
  int64_t notes_compared = 0;
  for (const auto& [file, result] : theirs.items()) {
    if (result.contains("skip")) {
      EXPECT_EQ(ours.count(file), 0u) << file << " was imported; mido's extraction skips it";
      continue;
    }
    ASSERT_EQ(ours.count(file), 1u) << file << " is missing from the import";
    const auto& fragments = result.at("fragments");
    ASSERT_EQ(ours[file].size(), fragments.size()) << file;
    for (size_t f = 0; f < fragments.size(); ++f) {
      std::vector<MelodyNote> expected;
      for (const auto& n : fragments[f])
        expected.push_back({n[0].get<int64_t>(), n[1].get<int64_t>(), n[2].get<int>()});
      EXPECT_EQ(ours[file][f], expected) << file << " fragment " << f;
      notes_compared += static_cast<int64_t>(expected.size());
    }
  }
  EXPECT_EQ(theirs.size(), (tunes.size() + 19) / 20);
  EXPECT_GT(notes_compared, 5000);
}

// What token models read: one-hot rolls of the events, back to the same events, and the melody
// they spell as the piano roll MIDI, SVG and music statistics take.
TEST(TokenRolls, OneHotRollsRoundTripAndSpellTheMelody) {
  const MelodyVocabulary vocabulary;  // 48..83, 38 classes
  const std::vector<int16_t> events = {
      vocabulary.note_on(60), kNoEvent, kNoteOff, vocabulary.note_on(62),
      vocabulary.note_on(83), kNoEvent};
  const PianoRoll one_hot = one_hot_roll(events, vocabulary);
  ASSERT_EQ(one_hot.frames, 6);
  ASSERT_EQ(one_hot.pitches, 38);
  for (int64_t t = 0; t < 6; ++t) {
    for (int c = 0; c < 38; ++c)
      EXPECT_EQ(one_hot.at(t, c), c == events[static_cast<size_t>(t)] ? 1 : 0) << t << " " << c;
  }
  EXPECT_EQ(one_hot_events(one_hot, vocabulary), events);

  const PianoRoll melody = melody_piano_roll(events, vocabulary);
  ASSERT_EQ(melody.pitches, 36);
  ASSERT_EQ(melody.lowest_pitch, 48);
  // 60 sounds at steps 0-1, the rest at step 2, 62 at step 3, 83 at steps 4-5.
  const std::vector<std::vector<int>> sounding = {{60}, {60}, {}, {62}, {83}, {83}};
  for (int64_t t = 0; t < 6; ++t) {
    for (int p = 0; p < 36; ++p) {
      const auto& on = sounding[static_cast<size_t>(t)];
      const bool expected = std::find(on.begin(), on.end(), 48 + p) != on.end();
      EXPECT_EQ(melody.at(t, p), expected ? 1 : 0) << "step " << t << " pitch " << 48 + p;
    }
  }

  PianoRoll two = one_hot;
  two.at(1, 5) = 1;
  EXPECT_THROW(one_hot_events(two, vocabulary), InputError);
  PianoRoll none = one_hot;
  none.at(2, kNoteOff) = 0;
  EXPECT_THROW(one_hot_events(none, vocabulary), InputError);
  const std::vector<int16_t> outside = {38};
  EXPECT_THROW(one_hot_roll(outside, vocabulary), InputError);
}

// A token dataset file loads, for training, evaluation and generation, as one-hot rolls of the
// vocabulary's classes, and keeps its kind.
TEST(TokenDataset, LoadsAsOneHotRollsOfTheVocabulary) {
  ScratchDir dir;
  const auto path = dir / "tokens.h5";
  const TokenDataset tokens = small_token_dataset();
  write_token_dataset(path, tokens);
  const Dataset dataset = load_dataset(path.string(), "");
  EXPECT_EQ(dataset.info.kind, "tokens");
  EXPECT_EQ(frame_width(dataset.info), 38);
  for (size_t s = 0; s < 3; ++s) {
    const SplitRolls& rolls = dataset.splits[s];
    const SplitTokens& events = tokens.splits[s];
    EXPECT_EQ(rolls.pitches, 38);
    EXPECT_EQ(rolls.offsets, events.offsets);
    EXPECT_EQ(rolls.names, events.names);
    for (int64_t q = 0; q < rolls.sequences(); ++q) {
      const auto expected = events.sequence(q);
      EXPECT_EQ(one_hot_events(rolls.sequence(q, 48), MelodyVocabulary{}),
                std::vector<int16_t>(expected.begin(), expected.end()));
    }
  }
}

// Transposing a token sample moves its NOTE_ON events only, never out of the range (the shift is
// drawn among those that keep every note in), keyed by the sample as for piano rolls.
TEST(TokenTransposition, KeepsEveryNoteInRangeAndTheOtherEventsInPlace) {
  const MelodyVocabulary vocabulary;
  auto split = std::make_shared<SplitRolls>();
  split->pitches = vocabulary.size();
  CounterRng rng(derive_key(21));
  std::vector<std::vector<int16_t>> sequences;
  for (int s = 0; s < 40; ++s) {
    // Some melodies start at the bottom of the range or end at its top, so they can move one way.
    const int low = s % 4 == 0 ? 48 : s % 4 == 1 ? 78 : 60;
    std::vector<int16_t> events = {vocabulary.note_on(s % 4 == 1 ? 83 : low)};
    for (int t = 1; t < 12; ++t) {
      const uint64_t kind = rng.below(3);
      events.push_back(kind == 0   ? kNoEvent
                       : kind == 1 ? kNoteOff
                                   : vocabulary.note_on(low + static_cast<int>(rng.below(6))));
    }
    split->append(one_hot_roll(events, vocabulary), fmt::format("m{}", s));
    sequences.push_back(events);
  }
  LoaderOptions options;
  options.framing = Framing::kFull;
  options.batch_size = 8;
  options.max_transpose = 5;
  options.fixed_columns = kFirstNoteOn;
  options.seed = 3;
  Loader loader(split, options), again(split, options);
  std::set<int> shifts;
  for (int64_t b = 0; b < 2 * loader.batches_per_epoch(); ++b) {
    const Batch batch = loader.next();
    const Batch repeat = again.next();
    EXPECT_EQ(batch.inputs.frames, repeat.inputs.frames);
    for (int i = 0; i < batch.batch_size; ++i) {
      const SampleOrigin& origin = batch.samples[static_cast<size_t>(i)];
      shifts.insert(origin.transpose);
      if (origin.sequence % 4 == 0) EXPECT_GE(origin.transpose, 0) << "a melody from pitch 48";
      if (origin.sequence % 4 == 1) EXPECT_LE(origin.transpose, 0) << "a melody up to pitch 83";
      const auto& events = sequences[static_cast<size_t>(origin.sequence)];
      for (int64_t t = 0; t < origin.frames; ++t) {
        const int16_t event = events[static_cast<size_t>(t)];
        const int moved = vocabulary.is_note_on(event) ? event + origin.transpose : event;
        ASSERT_TRUE(moved >= 0 && moved < vocabulary.size())
            << "sequence " << origin.sequence << " shifted " << origin.transpose;
        const float* row = batch.inputs.frames.data() +
                           (t * batch.batch_size + i) * static_cast<int64_t>(vocabulary.size());
        for (int c = 0; c < vocabulary.size(); ++c)
          EXPECT_EQ(row[c], c == moved ? 1.0f : 0.0f) << "sequence " << origin.sequence;
      }
    }
  }
  EXPECT_GE(shifts.size(), 8u) << "the shifts of [-5, 5] are drawn";
  EXPECT_TRUE(shifts.count(-5) == 1 && shifts.count(5) == 1);
}

// A melody's MIDI file keeps a note repeated without a rest as two notes (a piano roll would merge
// them), on piano_roll_to_midi's grid and tracks.
TEST(TokenRolls, MelodyMidiKeepsRepeatedNotesApart) {
  const MelodyVocabulary vocabulary;
  const std::vector<int16_t> events = {
      vocabulary.note_on(60), kNoEvent, vocabulary.note_on(60), kNoteOff, kNoEvent,
      vocabulary.note_on(67)};
  const MidiFile midi = melody_to_midi(events, vocabulary, 4, 500000);
  const MidiFile grid = piano_roll_to_midi(melody_piano_roll(events, vocabulary), 4, 500000);
  EXPECT_EQ(midi.ticks_per_quarter, grid.ticks_per_quarter);
  EXPECT_EQ(midi.tracks, 2);
  const int64_t step = midi.ticks_per_quarter / 4;
  ASSERT_EQ(midi.notes.size(), 3u);
  EXPECT_EQ(grid.notes.size(), 2u) << "the piano roll merges the repeated 60";
  const std::vector<std::array<int64_t, 3>> expected = {
      {0, 2 * step, 60}, {2 * step, 3 * step, 60}, {5 * step, 6 * step, 67}};
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(midi.notes[i].start_tick, expected[i][0]) << i;
    EXPECT_EQ(midi.notes[i].end_tick, expected[i][1]) << i;
    EXPECT_EQ(midi.notes[i].pitch, expected[i][2]) << i;
    EXPECT_EQ(midi.notes[i].track, 1) << i;
  }
}

}  // namespace
}  // namespace cadenza::testing
