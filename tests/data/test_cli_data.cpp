// `cadenza data import` and `cadenza data inspect`, driven through the real binary: exit codes
// (0 ok, 2 usage, 3 bad input), printed reports, and no half-written output on failure.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "data/midi.hpp"
#include "support/process.hpp"

namespace cadenza {
namespace {

using testing::run_cadenza;
using testing::ScratchDir;

using testing::quoted;

std::filesystem::path benchmark(const std::string& name) {
  return testing::shared_dir() / "datasets" / "polyphonic" / (name + ".mat");
}

// The names of the entries of `dir`, sorted.
std::vector<std::string> listing(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

TEST(CliData, ImportMatThenInspectPrintsExactCounts) {
  ScratchDir dir;
  const auto out = dir / "jsb.h5";
  const auto imported =
      run_cadenza("data import " + quoted(benchmark("JSB_Chorales")) + " --out " + quoted(out));
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_NE(imported.out.find("train     229 sequences     13807 frames"), std::string::npos)
      << imported.out;
  EXPECT_NE(imported.out.find("wrote " + out.string()), std::string::npos);

  const auto inspected = run_cadenza("data inspect " + quoted(out));
  ASSERT_EQ(inspected.exit_code, 0) << inspected.err;
  const std::string& table = inspected.out;
  EXPECT_NE(table.find("dataset             JSB_Chorales"), std::string::npos) << table;
  EXPECT_NE(table.find("ac0e608527cc411c7e21ef7d38be47f0de7fb6b13b3ae168b8eccf1c2a9b18d4"),
            std::string::npos);
  EXPECT_NE(table.find("frames per quarter  unknown"), std::string::npos);
  EXPECT_NE(table.find("train         229      13807"), std::string::npos) << table;
  EXPECT_NE(table.find("valid          76       4602"), std::string::npos) << table;
  EXPECT_NE(table.find("test           77       4725"), std::string::npos) << table;
  EXPECT_NE(table.find("polyphony histogram"), std::string::npos);
  EXPECT_NE(table.find("pitch histogram"), std::string::npos);
  EXPECT_NE(table.find("silence ratio"), std::string::npos);
  EXPECT_EQ(listing(dir.path()), std::vector<std::string>{"jsb.h5"});
}

TEST(CliData, ImportMidiFolderReportsSkipsAndASummaryAndPythonReadsTheResult) {
  ScratchDir dir;
  const auto midi_dir = dir / "tunes";
  std::filesystem::create_directories(midi_dir);
  MidiFile tune;
  tune.ticks_per_quarter = 96;
  tune.notes = {{0, 96, 60, 90, 0, 0}, {96, 288, 67, 90, 0, 0}};
  write_midi(midi_dir / "tune.mid", tune);
  std::ofstream(midi_dir / "readme.txt") << "not a MIDI file";
  const auto out = dir / "tunes.h5";
  const auto imported = run_cadenza(
      "data import " + quoted(midi_dir) + " --out " + quoted(out) +
      " --resolution 8 --lowest-pitch 48 --pitches 36 --split-ratios 1,0,0 --name folk");
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_NE(imported.out.find("skipped readme.txt: not a readable MIDI file"), std::string::npos)
      << imported.out;
  EXPECT_NE(imported.out.find("imported 1 of 2 files (1 skipped)"), std::string::npos)
      << imported.out;

  const auto script = testing::source_dir() / "tests" / "python" / "h5py_read_dataset.py";
  const auto python = testing::run_shell("/usr/bin/python3 " + quoted(script) + " " + quoted(out) +
                                         " " + quoted(dir / "seen.json"));
  ASSERT_EQ(python.exit_code, 0) << "python3 + h5py must be installed\n" << python.err;
  const auto seen = nlohmann::json::parse(testing::slurp(dir / "seen.json"));
  EXPECT_EQ(seen["attributes"]["name"], "folk");
  EXPECT_EQ(seen["attributes"]["source"], "tunes");
  EXPECT_EQ(seen["attributes"]["frames_per_quarter"], 8);
  EXPECT_EQ(seen["attributes"]["lowest_pitch"], 48);
  EXPECT_EQ(seen["attributes"]["num_pitches"], 36);
  EXPECT_EQ(seen["splits"]["train"]["names"], nlohmann::json::array({"tune.mid"}));
  // One quarter of C4 then two quarters of G4 at 8 frames per quarter: 24 frames, 24 cells.
  EXPECT_EQ(seen["splits"]["train"]["rolls_shape"], nlohmann::json::array({24, 36}));
  EXPECT_EQ(seen["splits"]["train"]["sounding_per_sequence"], nlohmann::json::array({24}));
  EXPECT_EQ(seen["splits"]["valid"]["sequences"], 0);
}

TEST(CliData, BadArgumentsExitWith2) {
  ScratchDir dir;
  const auto mat = quoted(benchmark("JSB_Chorales"));
  const auto out = quoted(dir / "out.h5");
  const auto midi_dir = dir / "tunes";
  std::filesystem::create_directories(midi_dir);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"data import " + mat, "--out"},
      {"data", ""},
      {"data import " + mat + " --out " + out + " --resolution 4", "--resolution applies to"},
      {"data import " + mat + " --out " + quoted(dir / "absent" / "out.h5"), "does not exist"},
      {"data import " + quoted(midi_dir) + " --out " + out + " --split-ratios 1,2",
       "three numbers"},
      {"data import " + quoted(midi_dir) + " --out " + out + " --split-ratios 0,0,0", "positive"},
      {"data import " + quoted(midi_dir) + " --out " + out + " --resolution 0", "--resolution"},
      {"data import " + quoted(midi_dir) + " --out " + out + " --lowest-pitch 100 --pitches 88",
       "0..127"},
      {"data inspect", "FILE"},
  };
  for (const auto& [arguments, expected] : cases) {
    const auto result = run_cadenza(arguments);
    EXPECT_EQ(result.exit_code, 2) << arguments << "\n" << result.out << result.err;
    EXPECT_NE(result.err.find(expected), std::string::npos) << arguments << "\n" << result.err;
  }
  EXPECT_TRUE(std::filesystem::is_empty(midi_dir));
  EXPECT_EQ(listing(dir.path()), std::vector<std::string>{"tunes"});
}

TEST(CliData, BadInputsExitWith3AndLeaveNoOutput) {
  ScratchDir dir;
  const auto out = dir / "out.h5";
  std::ofstream(out) << "the previous dataset";
  std::ofstream(dir / "fake.mat") << "not MATLAB";
  std::ofstream(dir / "fake.h5") << "not HDF5";
  const auto junk = dir / "junk";
  std::filesystem::create_directories(junk);
  std::ofstream(junk / "a.mid") << "MThd but not really";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"data import " + quoted(dir / "fake.mat") + " --out " + quoted(out),
       "not a MATLAB .mat file"},
      {"data import " + quoted(dir / "missing.mat") + " --out " + quoted(out), "no such file"},
      {"data import " + quoted(dir / "fake.h5") + " --out " + quoted(out), "not a .mat file"},
      {"data import " + quoted(junk) + " --out " + quoted(out), "no file could be imported"},
      {"data inspect " + quoted(dir / "fake.h5"), "not an HDF5 file"},
      {"data inspect " + quoted(dir / "missing.h5"), "no such file"},
  };
  for (const auto& [arguments, expected] : cases) {
    const auto result = run_cadenza(arguments);
    EXPECT_EQ(result.exit_code, 3) << arguments << "\n" << result.out << result.err;
    EXPECT_NE(result.err.find(expected), std::string::npos) << arguments << "\n" << result.err;
  }
  EXPECT_EQ(testing::slurp(out), "the previous dataset");
  EXPECT_EQ(listing(dir.path()),
            (std::vector<std::string>{"fake.h5", "fake.mat", "junk", "out.h5"}));
}

}  // namespace
}  // namespace cadenza
