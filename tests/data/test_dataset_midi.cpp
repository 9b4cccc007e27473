// Importing a folder of MIDI files: skip reasons, summary counts, deterministic hash split.
#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "core/error.hpp"
#include "data/midi.hpp"
#include "data/midi_import.hpp"
#include "support/process.hpp"

namespace cadenza {
namespace {

using testing::ScratchDir;

MidiFile midi_with_notes(std::initializer_list<MidiNote> notes) {
  MidiFile midi;
  midi.ticks_per_quarter = 96;
  midi.notes = notes;
  return midi;
}

// A folder with two good files (one in a subfolder), and one file per skip reason.
void fill_folder(const std::filesystem::path& dir) {
  write_midi(dir / "good.mid", midi_with_notes({{0, 96, 60, 90, 0, 0}, {96, 192, 64, 90, 0, 0}}));
  std::filesystem::create_directories(dir / "set");
  // One note out of range (pitch 10) and drums (channel 9) next to a pitched note.
  write_midi(
      dir / "set" / "mixed.mid",
      midi_with_notes({{0, 48, 10, 90, 0, 0}, {0, 384, 72, 90, 0, 0}, {0, 48, 36, 90, 9, 0}}));
  write_midi(dir / "drums.mid",
             midi_with_notes({{0, 96, 36, 100, 9, 0}, {96, 192, 38, 100, 9, 0}}));
  write_midi(dir / "empty.mid", midi_with_notes({}));
  write_midi(dir / "low.mid", midi_with_notes({{0, 96, 5, 90, 0, 0}, {0, 96, 12, 90, 0, 0}}));
  std::ofstream(dir / "notes.txt") << "this is not a MIDI file";
}

TEST(DatasetMidiImport, SkipsEachBadFileWithItsReasonAndCountsTheRest) {
  ScratchDir dir;
  fill_folder(dir.path());
  MidiImportOptions options;
  options.name = "mine";
  options.split_ratios = {1.0, 0.0, 0.0};
  std::vector<std::string> reported;
  const auto report = import_midi_folder(
      dir.path(), options, [&](const SkippedFile& skipped) { reported.push_back(skipped.file); });
  EXPECT_EQ(report.files_seen, 6);
  EXPECT_EQ(report.files_imported, 2);
  EXPECT_EQ(report.notes_out_of_range, 1);
  std::map<std::string, std::string> reasons;
  for (const auto& skipped : report.skipped)
    reasons[skipped.file] = skipped.reason;
  EXPECT_EQ(reported, (std::vector<std::string>{"drums.mid", "empty.mid", "low.mid", "notes.txt"}));
  EXPECT_NE(reasons["drums.mid"].find("only drum notes"), std::string::npos);
  EXPECT_EQ(reasons["empty.mid"], "no notes");
  EXPECT_NE(reasons["low.mid"].find("out of range: all 2 notes outside pitch range 21..108"),
            std::string::npos)
      << reasons["low.mid"];
  EXPECT_NE(reasons["notes.txt"].find("not a readable MIDI file"), std::string::npos);

  const auto& train = report.dataset.splits[0];
  ASSERT_EQ(train.sequences(), 2);
  EXPECT_EQ(train.names, (std::vector<std::string>{"good.mid", "set/mixed.mid"}));
  // good.mid: two quarter notes at 4 frames per quarter -> 8 frames, C4 then E4.
  EXPECT_EQ(train.length(0), 8);
  const PianoRoll good = train.sequence(0, 21);
  EXPECT_EQ(good.at(0, 60 - 21), 1);
  EXPECT_EQ(good.at(4, 64 - 21), 1);
  EXPECT_EQ(good.at(4, 60 - 21), 0);
  // mixed.mid: the drum note and the out-of-range note are gone; C5 sounds for 4 quarters.
  const PianoRoll mixed = train.sequence(1, 21);
  EXPECT_EQ(mixed.frames, 16);
  int64_t sounding = 0;
  for (uint8_t cell : mixed.cells)
    sounding += cell;
  EXPECT_EQ(sounding, 16);
  EXPECT_EQ(report.dataset.info.frames_per_quarter, 4);
  EXPECT_EQ(report.dataset.info.name, "mine");
  EXPECT_EQ(report.dataset.info.source_sha256.size(), 64u);
}

TEST(DatasetMidiImport, SplitIsAFixedFunctionOfTheFileName) {
  const std::array<double, 3> ratios = {0.8, 0.1, 0.1};
  std::array<int, 3> counts{};
  for (int i = 0; i < 3000; ++i) {
    const auto name = "tune_" + std::to_string(i) + ".mid";
    const int split = split_for_file(name, ratios);
    EXPECT_EQ(split, split_for_file(name, ratios));
    ++counts[static_cast<size_t>(split)];
  }
  // Binomial standard deviations are ~22 (train) and ~16 (valid, test): allow 5 of them.
  EXPECT_NEAR(counts[0], 2400, 110);
  EXPECT_NEAR(counts[1], 300, 80);
  EXPECT_NEAR(counts[2], 300, 80);
  EXPECT_EQ(split_for_file("anything.mid", {0.0, 0.0, 2.0}), 2);
  EXPECT_EQ(split_for_file("anything.mid", {3.0, 0.0, 0.0}), 0);
}

TEST(DatasetMidiImport, ImportIsDeterministicAndIndependentOfOtherFiles) {
  ScratchDir a;
  ScratchDir b;
  fill_folder(a.path());
  fill_folder(b.path());
  write_midi(b / "extra.mid", midi_with_notes({{0, 96, 67, 90, 0, 0}}));
  MidiImportOptions options;
  const auto first = import_midi_folder(a.path(), options);
  const auto again = import_midi_folder(a.path(), options);
  const auto more = import_midi_folder(b.path(), options);
  EXPECT_EQ(first.dataset.info.source_sha256, again.dataset.info.source_sha256);
  EXPECT_NE(first.dataset.info.source_sha256, more.dataset.info.source_sha256);
  for (size_t s = 0; s < 3; ++s) {
    EXPECT_EQ(first.dataset.splits[s].cells, again.dataset.splits[s].cells);
    for (const auto& name : first.dataset.splits[s].names) {
      const auto& names = more.dataset.splits[s].names;
      EXPECT_NE(std::find(names.begin(), names.end(), name), names.end())
          << name << " changed split when another file was added";
    }
  }
}

TEST(DatasetMidiImport, BadOptionsAndFoldersAreRejected) {
  ScratchDir dir;
  MidiImportOptions options;
  options.split_ratios = {0.0, 0.0, 0.0};
  EXPECT_THROW(import_midi_folder(dir.path(), options), ConfigError);
  options = {};
  options.roll.lowest_pitch = 100;
  options.roll.pitches = 88;
  EXPECT_THROW(import_midi_folder(dir.path(), options), ConfigError);
  options = {};
  options.roll.frames_per_quarter = 0;
  EXPECT_THROW(import_midi_folder(dir.path(), options), ConfigError);
  EXPECT_THROW(import_midi_folder(dir / "absent", MidiImportOptions{}), InputError);
}

TEST(DatasetMidiImport, EveryNottinghamTuneImports) {
  const auto folder = testing::shared_dir() / "midi" / "nottingham";
  const auto report = import_midi_folder(folder, MidiImportOptions{});
  EXPECT_EQ(report.files_imported, 1034);
  for (const auto& skipped : report.skipped) {
    EXPECT_FALSE(skipped.file.ends_with(".mid")) << skipped.file << ": " << skipped.reason;
  }
  int64_t sequences = 0;
  for (const auto& split : report.dataset.splits)
    sequences += split.sequences();
  EXPECT_EQ(sequences, 1034);
  EXPECT_GT(report.dataset.splits[1].sequences(), 50);
  EXPECT_GT(report.dataset.splits[2].sequences(), 50);
}

}  // namespace
}  // namespace cadenza
