// Cross-check against an independent reader: python3-mido, driven once over every corpus by
// tests/python/mido_notes.py, which applies the note rules of framework/data/midi.hpp to mido's
// messages. Notes must agree exactly: onset, end, pitch, velocity, channel and track.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/error.hpp"
#include "data/midi.hpp"
#include "test_midi_support.hpp"

namespace cadenza::testing {
namespace {

class MidiMido : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scratch_ = std::make_unique<ScratchDir>();
    const auto written_dir = scratch_->path() / "written";
    std::filesystem::create_directories(written_dir);
    write_our_files(written_dir);
    const auto json_path = scratch_->path() / "mido.json";
    const std::string command = fmt::format(
        "/usr/bin/python3 '{}' '{}' '{}' '{}' '{}'",
        (source_dir() / "tests" / "python" / "mido_notes.py").string(), json_path.string(),
        test_midi_dir().string(), nottingham_dir().string(), written_dir.string());
    const CommandResult result = run_shell(command);
    script_output_ = result.err;
    script_ok_ = result.exit_code == 0;
    if (script_ok_) summary_ = nlohmann::json::parse(slurp(json_path));
  }
  static void TearDownTestSuite() { scratch_.reset(); }

  void SetUp() override {
    ASSERT_TRUE(script_ok_) << "mido_notes.py failed (python3-mido missing?): " << script_output_;
  }

  // Files written by our writer: every 10th Nottingham tune read and rewritten, a piano roll
  // turned into MIDI, and a hand-made multi-track piece.
  static void write_our_files(const std::filesystem::path& dir) {
    const auto tunes = files_in(nottingham_dir(), ".mid");
    for (size_t i = 0; i < tunes.size(); i += 10) {
      write_midi(dir / tunes[i].filename(), read_midi(tunes[i]));
    }
    PianoRoll roll;
    roll.frames = 16;
    roll.cells.assign(16 * 88, 0);
    for (int frame = 0; frame < 16; ++frame) {
      roll.at(frame, 39 + (frame % 8)) = 1;
      roll.at(frame, 27) = frame < 12;
    }
    write_midi(dir / "roll.mid", piano_roll_to_midi(roll, 4, 500000, 90));
    MidiFile piece;
    piece.ticks_per_quarter = 220;
    piece.tracks = 3;
    piece.track_names = {"", "right", "left"};
    piece.tempo_map = {{0, 450000}, {880, 520000}};
    piece.time_signatures = {{0, 6, 8}};
    piece.notes = {{0, 220, 67, 80, 0, 1},
                   {0, 440, 67, 70, 0, 1},
                   {110, 330, 48, 60, 1, 2},
                   {440, 660, 48, 61, 1, 2},
                   {660, 1760, 36, 100, 9, 2}};
    write_midi(dir / "piece.mid", piece);
  }

  // Compares our reading of `path` with mido's; returns false when mido could not read it.
  static bool expect_agreement(const std::filesystem::path& path, const std::string& key) {
    const auto found = summary_.find(key);
    EXPECT_NE(found, summary_.end()) << key << " missing from mido's summary";
    if (found == summary_.end() || !found->at("ok").get<bool>()) return false;
    const MidiFile ours = read_midi(path);
    EXPECT_EQ(ours.format, found->at("format").get<int>()) << key;
    std::vector<MidiNote> theirs;
    for (const auto& n : found->at("notes")) {
      theirs.push_back({n[0].get<int64_t>(), n[1].get<int64_t>(), n[2].get<int>(), n[3].get<int>(),
                        n[4].get<int>(), n[5].get<int>()});
    }
    expect_same_notes(theirs, ours.notes, key);
    return true;
  }

  static std::string key_for(const std::filesystem::path& dir, const std::filesystem::path& file) {
    return (dir / file.filename()).string();
  }

  static inline std::unique_ptr<ScratchDir> scratch_;
  static inline nlohmann::json summary_;
  static inline bool script_ok_ = false;
  static inline std::string script_output_;
};

TEST_F(MidiMido, SharedTestFilesAgreeWhereMidoReadsThem) {
  const auto dir = test_midi_dir();
  int compared = 0;
  for (const auto& path : files_in(dir, ".mid")) {
    const std::string key = key_for(dir, path);
    const auto found = summary_.find(key);
    ASSERT_NE(found, summary_.end()) << key;
    if (!found->at("ok").get<bool>()) {
      // mido refuses some files we read (illegal F4/F5/F9/FD bytes, running status after sysex,
      // non-MTrk chunks); the reader tests check those by their expected notes.
      continue;
    }
    // Everything mido reads, we read too, with the same notes.
    ASSERT_NO_THROW(read_midi(path)) << key;
    compared += expect_agreement(path, key);
  }
  EXPECT_EQ(compared, 62);
}

TEST_F(MidiMido, AllNottinghamTunesAgree) {
  const auto dir = nottingham_dir();
  const auto files = files_in(dir, ".mid");
  ASSERT_EQ(files.size(), 1034u);
  size_t notes = 0;
  for (const auto& path : files) {
    EXPECT_TRUE(expect_agreement(path, key_for(dir, path))) << path << ": mido could not read it";
    notes += summary_.at(key_for(dir, path)).at("notes").size();
  }
  EXPECT_GT(notes, 300000u);
}

TEST_F(MidiMido, FilesWeWriteAreReadByMidoWithTheSameNotes) {
  const auto dir = scratch_->path() / "written";
  const auto files = files_in(dir, ".mid");
  ASSERT_EQ(files.size(), 106u);
  for (const auto& path : files) {
    EXPECT_TRUE(expect_agreement(path, key_for(dir, path))) << path << ": mido could not read it";
  }
}

}  // namespace
}  // namespace cadenza::testing
