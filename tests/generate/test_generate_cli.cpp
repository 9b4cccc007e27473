// `cadenza generate` end to end through the real binary: a smoke-trained lm on JSB Chorales and
// untrained seq2seq checkpoints (without attention, Luong, Bahdanau) built here. Determinism,
// every variant, temperature, polyphony limits, python3-mido reading the MIDI files, fluidsynth
// rendering audible WAVs (and a clear message without it), MIDI primers, music statistics, and
// errors with their exit codes.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "config/resolve.hpp"
#include "data/locate.hpp"
#include "data/midi.hpp"
#include "models/model.hpp"
#include "support/process.hpp"
#include "train/checkpoint_format.hpp"

namespace cadenza {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;
using testing::run_cadenza;
using testing::ScratchDir;
using testing::slurp;

fs::path smoke_experiment() {
  return testing::source_dir() / "experiments" / "smoke.json";
}

using testing::quoted;

// The last non-empty line of a command's stdout, as JSON.
nlohmann::json last_json_line(const std::string& out) {
  std::istringstream lines(out);
  std::string line, last;
  while (std::getline(lines, line)) {
    if (!line.empty()) last = line;
  }
  return nlohmann::json::parse(last);
}

// An untrained seq2seq checkpoint of the smoke experiment with the given overrides; the output
// bias at -2 makes about 12% of the keys sound, like music rather than noise.
void write_untrained_checkpoint(const fs::path& path, std::vector<std::string> overrides) {
  overrides.insert(overrides.begin(),
                   {"model.type=seq2seq", "data.framing=segments", "threads.compute=1"});
  const auto resolved = config::resolve_experiment(smoke_experiment(), overrides);
  const auto& config = resolved.config;
  auto model = build_model(config.model, 88, config.data.context_frames, config.data.target_frames);
  model->init(3);
  for (const auto& named : model->parameters()) {
    if (named.name == "decoder/output/b") named.parameter->value.fill(-2.0f);
  }
  CheckpointContents contents;
  contents.config_json = resolved.canonical.dump();
  contents.run_id = resolved.run_id;
  contents.params = snapshot_parameters(model->parameters());
  contents.optimizer.name = "adam";
  save_checkpoint(path, contents);
}

// The piano roll of a MIDI file cadenza wrote for JSB (1 frame per quarter note).
PianoRoll roll_of(const fs::path& midi, int frames_per_quarter = 1) {
  PianoRollOptions options;
  options.frames_per_quarter = frames_per_quarter;
  return midi_to_piano_roll(read_midi(midi), options);
}

int keys_in_frame(const PianoRoll& roll, int64_t t) {
  int keys = 0;
  for (int p = 0; p < roll.pitches; ++p)
    keys += roll.at(t, p);
  return keys;
}

// Root-mean-square of the 16-bit PCM samples of a WAV file (0 when it is not one).
double wav_rms(const fs::path& path, double* seconds) {
  const std::string bytes = slurp(path);
  if (bytes.size() < 12 || bytes.compare(0, 4, "RIFF") != 0 || bytes.compare(8, 4, "WAVE") != 0) {
    return 0.0;
  }
  const auto u32 = [&](size_t at) {
    uint32_t v = 0;
    std::memcpy(&v, bytes.data() + at, 4);
    return v;
  };
  const auto u16 = [&](size_t at) {
    uint16_t v = 0;
    std::memcpy(&v, bytes.data() + at, 2);
    return v;
  };
  int channels = 0, bits = 0;
  uint32_t rate = 0;
  for (size_t at = 12; at + 8 <= bytes.size();) {
    const std::string id = bytes.substr(at, 4);
    const uint32_t size = u32(at + 4);
    if (id == "fmt ") {
      channels = u16(at + 10);
      rate = u32(at + 12);
      bits = u16(at + 22);
    } else if (id == "data" && bits == 16 && channels > 0) {
      const size_t count = std::min<size_t>(size, bytes.size() - at - 8) / 2;
      double sum = 0.0;
      for (size_t i = 0; i < count; ++i) {
        int16_t sample = 0;
        std::memcpy(&sample, bytes.data() + at + 8 + 2 * i, 2);
        sum += static_cast<double>(sample) * sample;
      }
      *seconds = static_cast<double>(count) / channels / rate;
      return count > 0 ? std::sqrt(sum / static_cast<double>(count)) : 0.0;
    }
    at += 8 + size + (size % 2);
  }
  return 0.0;
}

class GenerateCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scratch_ = std::make_unique<ScratchDir>();
    // One epoch of 32-frame windows on one thread: a second or two, and a real run directory.
    const CommandResult trained = run_cadenza(
        "train " + quoted(smoke_experiment()) + " --runs-dir " + quoted(*scratch_ / "runs") +
        " data.framing=window data.window=32 data.stride=32 data.eval_batch_size=128 "
        "train.epochs=1 threads.compute=1");
    if (trained.exit_code != 0) {
      setup_error_ = "training the smoke lm failed: " + trained.err;
      return;
    }
    lm_run_ = last_json_line(trained.out)["run_dir"].get<std::string>();
    write_untrained_checkpoint(*scratch_ / "seq2seq.h5", {});
    write_untrained_checkpoint(*scratch_ / "luong.h5",
                               {"model.attention=general", "model.attention_style=luong"});
    write_untrained_checkpoint(*scratch_ / "bahdanau.h5",
                               {"model.attention=additive", "model.attention_style=bahdanau"});
    jsb_ = std::make_unique<Dataset>(load_dataset("JSB_Chorales", ""));
  }
  static void TearDownTestSuite() {
    jsb_.reset();
    scratch_.reset();
  }
  void SetUp() override { ASSERT_TRUE(setup_error_.empty()) << setup_error_; }

  // `cadenza generate TARGET ARGS --out OUT`; expects success and returns the output folder.
  static fs::path generate(const fs::path& target, const std::string& args,
                           const std::string& out) {
    const fs::path folder = *scratch_ / out;
    const CommandResult result =
        run_cadenza("generate " + quoted(target) + " " + args + " --out " + quoted(folder));
    EXPECT_EQ(result.exit_code, 0) << args << "\n" << result.err;
    last_stdout_ = result.out;
    return folder;
  }

  static nlohmann::json record(const fs::path& folder) {
    return nlohmann::json::parse(slurp(folder / "generation.json"));
  }

  static inline std::unique_ptr<ScratchDir> scratch_;
  static inline std::unique_ptr<Dataset> jsb_;
  static inline fs::path lm_run_;
  static inline std::string setup_error_;
  static inline std::string last_stdout_;
};

TEST_F(GenerateCli, SameSeedGivesIdenticalFilesAndAnotherSeedOthers) {
  const std::string args = "--primer dataset:test:0 --primer-frames 8 --frames 32 --samples 3";
  const fs::path a = generate(lm_run_, args + " --seed 5", "a");
  const fs::path b = generate(lm_run_, args + " --seed 5", "b");
  const fs::path c = generate(lm_run_, args + " --seed 6", "c");
  for (const char* stem : {"sample-000", "sample-001", "sample-002"}) {
    for (const char* extension : {".mid", ".svg"}) {
      const std::string name = std::string(stem) + extension;
      ASSERT_TRUE(fs::exists(a / name)) << name;
      EXPECT_EQ(slurp(a / name), slurp(b / name)) << name << " differs for the same seed";
    }
    const std::string midi = std::string(stem) + ".mid";
    EXPECT_NE(slurp(a / midi), slurp(c / midi)) << midi << " is the same for seeds 5 and 6";
  }
  EXPECT_NE(slurp(a / "sample-000.mid"), slurp(a / "sample-001.mid"));
  auto record_a = record(a), record_b = record(b);
  record_a.erase("command");
  record_b.erase("command");
  EXPECT_EQ(record_a, record_b);
  EXPECT_EQ(record_a["seed"], 5);
  EXPECT_EQ(record_a["primer"]["frames"], 8);
}

TEST_F(GenerateCli, EveryVariantContinuesThePrimer) {
  const SplitRolls& valid = jsb_->splits[1];
  const PianoRoll primer = valid.sequence(1, 21);
  const std::vector<std::pair<fs::path, bool>> targets = {{lm_run_, false},
                                                          {*scratch_ / "seq2seq.h5", false},
                                                          {*scratch_ / "luong.h5", true},
                                                          {*scratch_ / "bahdanau.h5", true}};
  for (const auto& [target, attention] : targets) {
    SCOPED_TRACE(target.string());
    const fs::path out =
        generate(target, "--primer dataset:valid:1 --primer-frames 10 --frames 40 --samples 2",
                 "variant-" + target.stem().string());
    for (const char* stem : {"sample-000", "sample-001"}) {
      const PianoRoll roll = roll_of(out / (std::string(stem) + ".mid"));
      ASSERT_GE(roll.frames, 11) << stem;
      ASSERT_LE(roll.frames, 50) << stem;
      for (int64_t t = 0; t < 10; ++t) {
        for (int p = 0; p < 88; ++p)
          ASSERT_EQ(roll.at(t, p), primer.at(t, p)) << stem << " primer frame " << t;
      }
      int64_t generated_cells = 0;
      for (int64_t t = 10; t < roll.frames; ++t)
        generated_cells += keys_in_frame(roll, t);
      EXPECT_GT(generated_cells, 0) << stem;
      const std::string svg = slurp(out / (std::string(stem) + ".svg"));
      EXPECT_NE(svg.find("<svg"), std::string::npos);
      EXPECT_NE(svg.find("primer (10 frames)"), std::string::npos);
      EXPECT_NE(svg.find("generated (40 frames)"), std::string::npos);
      const fs::path map = out / (std::string(stem) + ".attention.svg");
      EXPECT_EQ(fs::exists(map), attention) << map;
      if (attention) {
        EXPECT_NE(slurp(map).find("decoder step"), std::string::npos);
      }
    }
    const auto json = record(out);
    EXPECT_EQ(json.contains("segments"), target.extension() == ".h5");
    EXPECT_EQ(json["outputs"].size(), 2u);
  }
}

TEST_F(GenerateCli, HigherTemperatureSoundsMoreKeys) {
  const std::string args =
      "--primer dataset:test:3 --primer-frames 8 --frames 48 --samples 4 --stats";
  const fs::path cold = generate(lm_run_, args + " --temperature 0.3", "cold");
  const std::string table = last_stdout_;
  const fs::path hot = generate(lm_run_, args + " --temperature 3", "hot");
  const auto cold_stats = nlohmann::json::parse(slurp(cold / "stats.json"));
  const auto hot_stats = nlohmann::json::parse(slurp(hot / "stats.json"));
  const double cold_polyphony = cold_stats["generated"]["stats"]["mean_polyphony"];
  const double hot_polyphony = hot_stats["generated"]["stats"]["mean_polyphony"];
  // Most keys have strongly negative logits: dividing them by 3 lets many sound.
  EXPECT_GT(hot_polyphony, cold_polyphony + 4.0);
  EXPECT_GT(hot_stats["generated"]["stats"]["pitch_range"].get<int>(),
            cold_stats["generated"]["stats"]["pitch_range"].get<int>());
  // The reference is the whole JSB test split; the generated stats cover 4 x 48 frames.
  EXPECT_EQ(cold_stats["reference"]["split"], "test");
  EXPECT_EQ(cold_stats["reference"]["stats"]["frames"], 4725);
  EXPECT_EQ(cold_stats["generated"]["stats"]["frames"], 4 * 48);
  EXPECT_EQ(cold_stats["samples"].size(), 4u);
  EXPECT_NE(table.find("scale consistency"), std::string::npos) << table;
  EXPECT_NE(table.find("KL pitch classes (test || .)"), std::string::npos) << table;
  EXPECT_NE(table.find("sample 3"), std::string::npos) << table;
}

TEST_F(GenerateCli, PolyphonyLimitsHoldInEveryGeneratedFrame) {
  const std::string args = "--primer dataset:test:1 --primer-frames 4 --frames 40 --samples 3";
  const fs::path exact = generate(lm_run_, args + " --max-polyphony 2 --min-notes 2", "exact");
  const fs::path sparse = generate(lm_run_, args + " --temperature 3 --max-polyphony 1", "sparse");
  const fs::path dense = generate(lm_run_, args + " --min-notes 5", "dense");
  for (const char* stem : {"sample-000", "sample-001", "sample-002"}) {
    const std::string midi = std::string(stem) + ".mid";
    const PianoRoll exact_roll = roll_of(exact / midi);
    ASSERT_EQ(exact_roll.frames, 44) << "every generated frame sounds, so the piece ends at 44";
    for (int64_t t = 4; t < 44; ++t)
      EXPECT_EQ(keys_in_frame(exact_roll, t), 2) << midi << " frame " << t;
    const PianoRoll sparse_roll = roll_of(sparse / midi);
    int64_t sounding = 0;
    for (int64_t t = 4; t < sparse_roll.frames; ++t) {
      EXPECT_LE(keys_in_frame(sparse_roll, t), 1) << midi << " frame " << t;
      sounding += keys_in_frame(sparse_roll, t);
    }
    EXPECT_GT(sounding, 20) << "at temperature 3 most frames draw some key";
    const PianoRoll dense_roll = roll_of(dense / midi);
    ASSERT_EQ(dense_roll.frames, 44);
    for (int64_t t = 4; t < 44; ++t)
      EXPECT_GE(keys_in_frame(dense_roll, t), 5) << midi << " frame " << t;
  }
}

TEST_F(GenerateCli, MidoReadsTheNotesAndFluidsynthRendersAudibleAudio) {
  const fs::path out = generate(lm_run_,
                                "--primer dataset:test:2 --primer-frames 8 --frames 24 "
                                "--samples 2 --min-notes 1 --wav",
                                "audio");
  const fs::path summary = *scratch_ / "audio-mido.json";
  const CommandResult mido = testing::run_shell(
      "/usr/bin/python3 " + quoted(testing::source_dir() / "tests" / "python" / "mido_notes.py") +
      " " + quoted(summary) + " " + quoted(out));
  ASSERT_EQ(mido.exit_code, 0) << "mido_notes.py failed (python3-mido missing?): " << mido.err;
  const auto notes = nlohmann::json::parse(slurp(summary));
  for (const char* stem : {"sample-000", "sample-001"}) {
    const fs::path midi = out / (std::string(stem) + ".mid");
    const auto& theirs = notes.at((out / midi.filename()).string());
    ASSERT_TRUE(theirs.at("ok").get<bool>()) << theirs.dump();
    const MidiFile ours = read_midi(midi);
    ASSERT_EQ(theirs.at("notes").size(), ours.notes.size()) << stem;
    for (size_t i = 0; i < ours.notes.size(); ++i) {
      const auto& n = theirs.at("notes")[i];
      EXPECT_EQ(n[0].get<int64_t>(), ours.notes[i].start_tick) << stem << " note " << i;
      EXPECT_EQ(n[1].get<int64_t>(), ours.notes[i].end_tick) << stem << " note " << i;
      EXPECT_EQ(n[2].get<int>(), ours.notes[i].pitch) << stem << " note " << i;
    }
    // 32 frames at 120 bpm and one frame per quarter note: 16 s of music, every frame sounding.
    double seconds = 0.0;
    const double rms = wav_rms(out / (std::string(stem) + ".wav"), &seconds);
    EXPECT_GT(rms, 300.0) << stem << ".wav is silent or not 16-bit PCM";
    EXPECT_GE(seconds, 16.0) << stem;
    EXPECT_LT(seconds, 25.0) << stem;
  }
  EXPECT_EQ(record(out)["outputs"][0]["wav"], "sample-000.wav");
}

TEST_F(GenerateCli, WithoutFluidsynthOrSoundfontWavSaysWhatIsMissing) {
  const fs::path out = *scratch_ / "no-fluidsynth";
  const CommandResult no_program =
      testing::run_shell("PATH=/nonexistent '" + std::string(CADENZA_BINARY) + "' generate " +
                         quoted(lm_run_) + " --frames 8 --wav --out " + quoted(out));
  EXPECT_EQ(no_program.exit_code, 0) << no_program.err;
  EXPECT_NE(no_program.err.find("fluidsynth was not found on PATH"), std::string::npos)
      << no_program.err;
  EXPECT_NE(no_program.err.find("apt-get install fluidsynth fluid-soundfont-gm"),
            std::string::npos);
  EXPECT_TRUE(fs::exists(out / "sample-000.mid"));
  EXPECT_FALSE(fs::exists(out / "sample-000.wav"));
  EXPECT_TRUE(record(out).contains("audio_message"));

  const CommandResult no_soundfont =
      run_cadenza("generate " + quoted(lm_run_) +
                  " --frames 8 --wav --soundfont /nonexistent/font.sf2 --out " + quoted(out));
  EXPECT_EQ(no_soundfont.exit_code, 0) << no_soundfont.err;
  EXPECT_NE(no_soundfont.err.find("/nonexistent/font.sf2 does not exist"), std::string::npos)
      << no_soundfont.err;
}

TEST_F(GenerateCli, MidiPrimerIsQuantisedLikeTheImporterAndDefaultsGoToTheRun) {
  const fs::path tune = testing::shared_dir() / "midi" / "nottingham" / "ashover1.mid";
  const CommandResult result =
      run_cadenza("generate " + quoted(lm_run_) + " --primer " + quoted(tune) +
                  " --primer-frames 16 --frames-per-quarter 2 --frames 16 --seed 3");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const fs::path out = lm_run_ / "generated" / "seed-3";
  EXPECT_EQ(last_json_line(result.out)["out_dir"], out.string());
  const auto json = record(out);
  EXPECT_EQ(json["primer"]["frames"], 16);
  EXPECT_NE(json["primer"]["description"].get<std::string>().find("ashover1.mid"),
            std::string::npos);
  EXPECT_EQ(json["frames_per_quarter"], 2);
  const PianoRoll expected = roll_of(tune, 2);
  const PianoRoll written = roll_of(out / "sample-000.mid", 2);
  for (int64_t t = 0; t < 16; ++t) {
    for (int p = 0; p < 88; ++p)
      ASSERT_EQ(written.at(t, p), expected.at(t, p)) << "primer frame " << t << " key " << p;
  }
}

TEST_F(GenerateCli, WithoutPrimerOneSilentFrameStartsThePiece) {
  const fs::path out =
      generate(*scratch_ / "luong.h5", "--frames 12 --samples 2 --threads 0", "silent-start");
  const auto json = record(out);
  EXPECT_EQ(json["primer"]["frames"], 1);
  EXPECT_EQ(json["primer"]["description"], "one silent frame");
  EXPECT_TRUE(fs::exists(out / "sample-001.attention.svg"));
}

struct BadCall {
  std::string args;
  int exit_code;
  std::string message;
};

TEST_F(GenerateCli, BadInputsAreClearErrorsWithTheirExitCodes) {
  const fs::path garbage = *scratch_ / "garbage.h5";
  std::ofstream(garbage) << "not an HDF5 file";
  const fs::path bad_midi =
      testing::shared_dir() / "midi" / "test-midi-files" / "test-not-a-midi-file.mid";
  MidiFile low;
  low.notes = {{0, 480, 10, 80, 0, 0}};
  const fs::path low_midi = *scratch_ / "below-a0.mid";
  write_midi(low_midi, low);
  const std::string run = quoted(lm_run_);
  const std::vector<BadCall> calls = {
      {quoted(*scratch_ / "missing-run"), 2, "missing-run does not exist"},
      {quoted(garbage), 3, "garbage.h5"},
      {run + " --primer dataset:tset:0", 2, "split \"tset\" is not train, valid or test"},
      {run + " --primer dataset:test:9999", 2, "index \"9999\" is not a sequence"},
      {run + " --primer dataset:test:x", 2, "valid: 0..76"},
      {run + " --primer dataset:test", 2, "expected dataset:SPLIT:INDEX"},
      {run + " --primer nosuch.mid", 2, "--primer \"nosuch.mid\": no such file"},
      {run + " --primer " + quoted(bad_midi), 3, "test-not-a-midi-file.mid"},
      {run + " --primer " + quoted(low_midi), 3, "no note within the model's pitches 21..108"},
      {run + " --temperature 0", 2, "--temperature 0: expected a value in (0, 100]"},
      {run + " --frames 0", 2, "--frames 0: expected 1..100000"},
      {run + " --samples 1001", 2, "--samples 1001: expected 1..1000"},
      {run + " --max-polyphony 89", 2, "--max-polyphony 89: expected 0 (no limit) or 1..88"},
      {run + " --min-notes 3 --max-polyphony 2", 2, "--min-notes 3 exceeds --max-polyphony 2"},
      {run + " --bpm 0", 2, "--bpm 0: expected 4..1000"},
      {run + " --threads 9999", 2, "--threads 9999: expected 0 (the run's threads.compute) or 1.."},
      {run + " --frames abc", 2, "--frames"},
      {run + " --no-such-flag", 2, "--no-such-flag"},
      {run + " --beam 2", 2, "--top-k, --top-p and --beam choose among the events of a token"},
      {run + " --top-p 0.9", 2, "this model predicts piano-roll keys"},
  };
  for (const BadCall& call : calls) {
    const CommandResult result =
        run_cadenza("generate " + call.args + " --out " + quoted(*scratch_ / "bad"));
    EXPECT_EQ(result.exit_code, call.exit_code) << call.args << "\n" << result.err;
    EXPECT_NE(result.err.find(call.message), std::string::npos)
        << call.args << ": stderr does not say \"" << call.message << "\":\n"
        << result.err;
  }
  EXPECT_FALSE(fs::exists(*scratch_ / "bad" / "sample-000.mid"));
}

}  // namespace
}  // namespace cadenza
