// `cadenza generate` on a token model (a melody lm trained for one epoch on 120 Nottingham tunes),
// through the real binary: pieces keyed by the seed, written as monophonic MIDI that python3-mido
// reads back with every pitch in the vocabulary's range and the primer's notes first; music
// statistics against the test split's melodies; MIDI primers read as melodies; beam search; and
// the flags of the other kind of model refused with exit code 2.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "data/midi.hpp"
#include "support/process.hpp"
#include "train/train_run_support.hpp"

namespace cadenza {
namespace {

namespace fs = std::filesystem;
using testing::run_cadenza;
using testing::slurp;

using testing::quoted;

class MelodyGenerate : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scratch_ = std::make_unique<testing::ScratchDir>();
    const fs::path config =
        testing::melody_experiment(*scratch_, "melody_generate", R"(, "train": {"epochs": 1})");
    const auto trained =
        run_cadenza("train " + quoted(config) + " --runs-dir " + quoted(*scratch_ / "runs"));
    ASSERT_EQ(trained.exit_code, 0) << trained.err;
    run_ = *fs::directory_iterator(*scratch_ / "runs" / "melody_generate");
  }
  static void TearDownTestSuite() { scratch_.reset(); }

  // Runs generate into scratch/NAME and returns the folder; expects success.
  static fs::path generate(const std::string& args, const std::string& name) {
    const fs::path out = *scratch_ / name;
    const auto result =
        run_cadenza("generate " + quoted(run_) + " " + args + " --out " + quoted(out));
    EXPECT_EQ(result.exit_code, 0) << args << ": " << result.err;
    return out;
  }

  static inline std::unique_ptr<testing::ScratchDir> scratch_;
  static inline fs::path run_;
};

TEST_F(MelodyGenerate, PiecesAreKeyedBySeedAndMonophonicMidiInRange) {
  const std::string args =
      "--primer dataset:test:0 --primer-frames 16 --frames 96 --samples 2 --top-p 0.95 --stats";
  const fs::path a = generate(args + " --seed 3", "a");
  const fs::path again = generate(args + " --seed 3", "again");
  const fs::path other = generate(args + " --seed 4", "other");
  for (const char* file : {"sample-000.mid", "sample-001.mid"}) {
    EXPECT_EQ(slurp(a / file), slurp(again / file)) << file;
    EXPECT_NE(slurp(a / file), slurp(other / file)) << file;
  }

  const fs::path summary = *scratch_ / "mido.json";
  const auto mido = testing::run_shell(
      "/usr/bin/python3 " + quoted(testing::source_dir() / "tests" / "python" / "mido_notes.py") +
      " " + quoted(summary) + " " + quoted(a));
  ASSERT_EQ(mido.exit_code, 0) << mido.err;
  const auto files = nlohmann::json::parse(slurp(summary));
  for (const char* file : {"sample-000.mid", "sample-001.mid"}) {
    const auto& read = files.at((a / file).string());
    ASSERT_TRUE(read.at("ok").get<bool>()) << read.dump();
    const auto& notes = read.at("notes");
    ASSERT_GT(notes.size(), 4u) << file;
    int64_t previous_end = 0;
    for (const auto& note : notes) {
      EXPECT_GE(note[0].get<int64_t>(), previous_end) << file << ": notes overlap";
      previous_end = note[1].get<int64_t>();
      EXPECT_GE(note[2].get<int>(), 48) << file;
      EXPECT_LE(note[2].get<int>(), 83) << file;
    }
  }
  const auto record = nlohmann::json::parse(slurp(a / "generation.json"));
  EXPECT_EQ(record["top_p"], 0.95);
  EXPECT_EQ(record["primer"]["frames"], 16);
  const auto stats = nlohmann::json::parse(slurp(a / "stats.json"));
  EXPECT_TRUE(stats["generated"].contains("distances")) << stats.dump();
  EXPECT_TRUE(stats["reference"]["stats"].is_object());
}

TEST_F(MelodyGenerate, TopKOneIsGreedyAndAMidiPrimerIsReadAsAMelody) {
  const fs::path tune =
      testing::shared_dir() / "midi" / "nottingham" /
      fs::directory_iterator(testing::shared_dir() / "midi" / "nottingham")->path().filename();
  const std::string args = "--primer " + quoted(tune) + " --primer-frames 24 --frames 48 --top-k 1";
  const fs::path greedy = generate(args + " --seed 1", "greedy");
  const fs::path other_seed = generate(args + " --seed 2", "greedy2");
  EXPECT_EQ(slurp(greedy / "sample-000.mid"), slurp(other_seed / "sample-000.mid"))
      << "top-k 1 leaves nothing to chance";
  const auto record = nlohmann::json::parse(slurp(greedy / "generation.json"));
  // From the voice the dataset was imported from (--track 0), not the busiest track.
  EXPECT_NE(record["primer"]["description"].get<std::string>().find("the melody of MIDI file"),
            std::string::npos)
      << record.dump();
  EXPECT_NE(record["primer"]["description"].get<std::string>().find("(track 0)"), std::string::npos)
      << record.dump();
}

// --beam W writes the --samples best of W beams, best first, the same files every time, and
// records each one's mean log-probability per event.
TEST_F(MelodyGenerate, BeamSearchWritesTheBestBeamsAndTheirScores) {
  const std::string args = "--primer dataset:test:1 --primer-frames 16 --frames 32 --beam 4";
  const fs::path beams = generate(args + " --samples 2", "beams");
  const fs::path again = generate(args + " --samples 2 --seed 9", "beams-again");
  for (const char* file : {"sample-000.mid", "sample-001.mid"})
    EXPECT_EQ(slurp(beams / file), slurp(again / file)) << file << ": a search has no seed";
  const auto record = nlohmann::json::parse(slurp(beams / "generation.json"));
  EXPECT_EQ(record["beam"], 4);
  ASSERT_EQ(record["beam_scores"].size(), 2u) << record.dump();
  const double best = record["beam_scores"][0]["score"].get<double>();
  const double second = record["beam_scores"][1]["score"].get<double>();
  EXPECT_GE(best, second);
  EXPECT_LT(best, 0.0);
  EXPECT_NEAR(record["beam_scores"][0]["log_probability"].get<double>(), 32 * best, 1e-9);
  const fs::path greedy = generate(args.substr(0, args.find(" --beam")) + " --top-k 1", "greedy-1");
  const fs::path one_beam = generate(args.substr(0, args.find(" --beam")) + " --beam 1", "beam-1");
  EXPECT_EQ(slurp(greedy / "sample-000.mid"), slurp(one_beam / "sample-000.mid"))
      << "a beam of 1 is greedy decoding";
}

// An lm with Magenta's lookback inputs (model.lookback_bar_steps): greedy sampling, which steps
// through continue_generation, and a beam of 1, which reads every history anew through
// begin_generation, write the same tune, so both paths compute the same lookback rows.
TEST_F(MelodyGenerate, ALookbackLmDecodesTheSameTuneStepByStepAndByBeam) {
  const fs::path config = testing::melody_experiment(
      *scratch_, "melody_lookback",
      R"(, "model": {"lookback_bar_steps": 16}, "train": {"epochs": 1})");
  const auto trained =
      run_cadenza("train " + quoted(config) + " --runs-dir " + quoted(*scratch_ / "lookback"));
  ASSERT_EQ(trained.exit_code, 0) << trained.err;
  const fs::path run = *fs::directory_iterator(*scratch_ / "lookback" / "melody_lookback");
  const std::string args =
      "generate " + quoted(run) + " --primer dataset:test:2 --primer-frames 20 --frames 40 --out ";
  ASSERT_EQ(run_cadenza(args + quoted(*scratch_ / "lookback-greedy") + " --top-k 1").exit_code, 0);
  ASSERT_EQ(run_cadenza(args + quoted(*scratch_ / "lookback-beam") + " --beam 1").exit_code, 0);
  EXPECT_EQ(slurp(*scratch_ / "lookback-greedy" / "sample-000.mid"),
            slurp(*scratch_ / "lookback-beam" / "sample-000.mid"));
}

TEST_F(MelodyGenerate, FlagsOfPianoRollModelsAndOutOfRangeValuesExitWith2) {
  for (const std::string& args :
       {std::string("--max-polyphony 2"), std::string("--min-notes 1"), std::string("--top-k 39"),
        std::string("--top-p 0"), std::string("--top-p 1.5"), std::string("--beam -1"),
        std::string("--beam 2 --samples 3"), std::string("--beam 2 --top-p 0.9"),
        std::string("--beam 2 --temperature 0.5")}) {
    const auto result =
        run_cadenza("generate " + quoted(run_) + " " + args + " --out " + quoted(*scratch_ / "x"));
    EXPECT_EQ(result.exit_code, 2) << args << ": " << result.err;
    EXPECT_NE(result.err.find(args.substr(0, args.find(' '))), std::string::npos)
        << args << ": " << result.err;
  }
  EXPECT_FALSE(fs::exists(*scratch_ / "x"));
}

}  // namespace
}  // namespace cadenza
