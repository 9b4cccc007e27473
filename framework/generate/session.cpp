#include "generate/session.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/threads.hpp"
#include "data/locate.hpp"
#include "data/melody.hpp"
#include "generate/audio.hpp"
#include "generate/beam_search.hpp"
#include "generate/generator.hpp"
#include "generate/primer.hpp"
#include "generate/sample_files.hpp"
#include "metrics/music_stats.hpp"
#include "models/model.hpp"
#include "train/run_checkpoint.hpp"

namespace cadenza {
namespace {

namespace fs = std::filesystem;

// Frames per quarter note when the dataset does not record it (the .mat benchmarks): the
// Boulanger-Lewandowski rolls of JSB Chorales are quantised to quarter notes.
constexpr int kDefaultFramesPerQuarter = 1;

// The flags that do not depend on the model; throws UsageError naming the flag, its value and
// what is valid.
void check_flags(const GenerateOptions& o) {
  const auto fail = [](std::string_view flag, auto value, std::string_view valid) {
    throw UsageError(fmt::format("{} {}: expected {}", flag, value, valid));
  };
  if (o.frames < 1 || o.frames > 100000) fail("--frames", o.frames, "1..100000");
  if (o.samples < 1 || o.samples > 1000) fail("--samples", o.samples, "1..1000");
  if (!(o.temperature > 0.0 && o.temperature <= 100.0)) {
    fail("--temperature", o.temperature, "a value in (0, 100]");
  }
  if (o.primer_frames < 0) fail("--primer-frames", o.primer_frames, "0 (all) or more");
  if (!(o.bpm >= 4.0 && o.bpm <= 1000.0)) fail("--bpm", o.bpm, "4..1000");
  if (o.frames_per_quarter < 0 || o.frames_per_quarter > 960) {
    fail("--frames-per-quarter", o.frames_per_quarter, "0 (the dataset's) or 1..960");
  }
  if (o.top_k < 0) fail("--top-k", o.top_k, "0 (every event) or more");
  if (o.beam < 0 || o.beam > 1000) fail("--beam", o.beam, "0 (sample) or a width of 1..1000");
  if (o.beam > 0) {
    if (o.samples > o.beam) {
      fail("--samples", o.samples, fmt::format("at most --beam ({}): the best beams", o.beam));
    }
    if (o.top_k != 0 || o.top_p != 1.0 || o.temperature != 1.0) {
      throw UsageError(
          "--beam decodes the most probable continuations: --temperature, --top-k and --top-p "
          "shape random draws and do not apply to it");
    }
  }
  if (!(o.top_p > 0.0 && o.top_p <= 1.0)) fail("--top-p", o.top_p, "a value in (0, 1]");
  if (o.threads < 0 || o.threads > available_cores()) {
    fail("--threads", o.threads,
         fmt::format("0 (the run's threads.compute) or 1..{} (the cores)", available_cores()));
  }
}

// The flags of the other kind of model, and the limits against the model's `pitches` columns.
void check_limits(const GenerateOptions& o, int pitches, FrameOutput output) {
  if (output == FrameOutput::kCategorical) {
    if (o.max_polyphony != 0 || o.min_notes != 0) {
      throw UsageError(
          "--max-polyphony and --min-notes limit the keys of a piano-roll frame; a token model "
          "draws one event per step (use --top-k or --top-p)");
    }
    if (o.beam > 0 && o.frames > 4096) {
      throw UsageError(fmt::format(
          "--frames {} with --beam: each step rereads the whole piece, so a beam search is "
          "limited to 4096 steps",
          o.frames));
    }
    if (o.top_k > pitches) {
      throw UsageError(fmt::format("--top-k {}: expected 0 (every event) or 1..{} (the events)",
                                   o.top_k, pitches));
    }
    return;
  }
  if (o.top_k != 0 || o.top_p != 1.0 || o.beam != 0) {
    throw UsageError(
        "--top-k, --top-p and --beam choose among the events of a token model; this model "
        "predicts piano-roll keys (use --temperature, --max-polyphony, --min-notes)");
  }
  if (o.max_polyphony < 0 || o.max_polyphony > pitches) {
    throw UsageError(fmt::format("--max-polyphony {}: expected 0 (no limit) or 1..{} (the keys)",
                                 o.max_polyphony, pitches));
  }
  if (o.min_notes < 0 || o.min_notes > pitches) {
    throw UsageError(
        fmt::format("--min-notes {}: expected 0 (none) or 1..{}", o.min_notes, pitches));
  }
  if (o.max_polyphony > 0 && o.min_notes > o.max_polyphony) {
    throw UsageError(
        fmt::format("--min-notes {} exceeds --max-polyphony {}", o.min_notes, o.max_polyphony));
  }
}

// "lm 1x128", "seq2seq 2x256 + general attention (luong)".
std::string describe_model(const config::ModelConfig& model) {
  std::string text =
      fmt::format("{} {}x{}", config::name_of(model.type), model.layers, model.hidden_size);
  // The LSTM is the default and left unnamed, so LSTM outputs read as they always have.
  if (model.cell != config::Cell::lstm) text += fmt::format(" {}", config::name_of(model.cell));
  if (config::encoder_cell_of(model) != model.cell) {
    text += fmt::format(" ({} encoder)", config::name_of(config::encoder_cell_of(model)));
  }
  if (model.type == config::ModelType::seq2seq && model.attention != config::AttentionKind::none) {
    text += fmt::format(" + {} attention ({})", config::name_of(model.attention),
                        config::name_of(model.attention_style));
  }
  return text;
}

// RUN_DIR/generated/seed-S, or CHECKPOINT.generated/seed-S next to a loose checkpoint file.
fs::path default_out_dir(const RunCheckpoint& run, uint64_t seed) {
  const fs::path base = run.run_dir.empty() ? fs::path(run.checkpoint.path.string() + ".generated")
                                            : run.run_dir / "generated";
  return base / fmt::format("seed-{}", seed);
}

// A token model's piece, one-hot events [T, classes], as the melody it spells [T, num_pitches].
PianoRoll melody_roll(const PianoRoll& events, const DatasetInfo& info) {
  const MelodyVocabulary vocabulary = melody_vocabulary(info);
  return melody_piano_roll(one_hot_events(events, vocabulary), vocabulary);
}

// The test split as music statistics take it: piano rolls, or the melodies of a token dataset.
SplitRolls reference_split(const Dataset& dataset) {
  const SplitRolls& test = dataset.splits[static_cast<size_t>(split_index("test"))];
  if (dataset.info.kind != kTokensKind) return test;
  SplitRolls melodies;
  melodies.pitches = dataset.info.num_pitches;
  for (int64_t s = 0; s < test.sequences(); ++s) {
    melodies.append(melody_roll(test.sequence(s, dataset.info.lowest_pitch), dataset.info),
                    test.names[static_cast<size_t>(s)]);
  }
  return melodies;
}

// stats.json: the test split's statistics, the generated continuations' (pooled and per sample)
// and their distances from the test split. Prints the comparison table to stdout.
void write_stats(const std::vector<GeneratedSample>& samples, const Dataset& dataset,
                 const fs::path& out_dir) {
  const MusicStats test = music_stats(reference_split(dataset), dataset.info.lowest_pitch);
  const std::vector<PianoRoll> generated = generated_parts(samples);
  const MusicStats pooled = music_stats(generated);
  nlohmann::json per_sample = nlohmann::json::array();
  std::vector<std::pair<std::string, MusicStats>> columns = {{"generated", pooled}};
  for (size_t s = 0; s < generated.size(); ++s) {
    const MusicStats stats = music_stats(std::span(&generated[s], 1));
    per_sample.push_back({{"sample", s},
                          {"stats", music_stats_json(stats)},
                          {"distances", music_distances_json(music_distances(stats, test))}});
    if (generated.size() > 1 && generated.size() <= 4) {
      columns.emplace_back(fmt::format("sample {}", s), stats);
    }
  }
  const nlohmann::json report = {
      {"reference",
       {{"dataset", dataset.info.name}, {"split", "test"}, {"stats", music_stats_json(test)}}},
      {"generated",
       {{"stats", music_stats_json(pooled)},
        {"distances", music_distances_json(music_distances(pooled, test))}}},
      {"samples", per_sample},
  };
  write_file_atomic(out_dir / "stats.json", report.dump(2) + "\n");
  fmt::print(
      "Music statistics of the generated frames (primers excluded) against the {} test "
      "split:\n{}",
      dataset.info.name, music_stats_table("test", test, columns));
}

// Everything one generation needs from the checkpoint and its dataset.
struct GenerationSource {
  RunCheckpoint run;
  Dataset dataset;
  std::unique_ptr<SequenceModel> model;
  int frames_per_quarter = kDefaultFramesPerQuarter;
};

GenerationSource open_source(const GenerateOptions& options) {
  GenerationSource source;
  source.run = open_run_checkpoint(options.target);
  const config::ExperimentConfig& config = source.run.config.config;
  source.dataset = load_dataset(config.data.dataset, config.data.root);
  check_limits(options, frame_width(source.dataset.info), frame_output(source.dataset.info));
  source.model =
      build_model(config.model, frame_width(source.dataset.info), config.data.context_frames,
                  config.data.target_frames, frame_output(source.dataset.info));
  restore_parameters(source.run.checkpoint.contents.params, source.model->parameters(),
                     source.run.checkpoint.path.string());
  if (options.frames_per_quarter > 0) {
    source.frames_per_quarter = options.frames_per_quarter;
  } else if (source.dataset.info.frames_per_quarter > 0) {
    source.frames_per_quarter = source.dataset.info.frames_per_quarter;
  }
  return source;
}

// Writes every sample's files; returns their names (generation.json's "outputs") and sets
// `audio_message` when --wav could not render.
nlohmann::json write_samples(const std::vector<GeneratedSample>& samples,
                             const SampleOutputSettings& settings, std::string& audio_message) {
  const auto name = [](const fs::path& path) {
    return path.empty() ? nlohmann::json(nullptr) : nlohmann::json(path.filename().string());
  };
  nlohmann::json outputs = nlohmann::json::array();
  for (size_t s = 0; s < samples.size(); ++s) {
    const SampleFiles files = write_sample_files(samples[s], static_cast<int>(s), settings);
    outputs.push_back({{"midi", name(files.midi)},
                       {"piano_roll", name(files.piano_roll)},
                       {"attention", name(files.attention)},
                       {"wav", name(files.wav)}});
    if (!files.audio_message.empty()) audio_message = files.audio_message;
  }
  return outputs;
}

// generation.json: where the music came from and every setting that made it.
nlohmann::json generation_record(const GenerateOptions& options, const GenerationSource& source,
                                 const Primer& primer, const nlohmann::json& outputs) {
  const config::DataConfig& data = source.run.config.config.data;
  nlohmann::json record = {
      {"command", options.command},
      {"checkpoint", source.run.checkpoint.path.string()},
      {"run_id", source.run.checkpoint.contents.run_id},
      {"epoch", source.run.checkpoint.contents.epoch},
      {"step", source.run.checkpoint.contents.step},
      {"model", source.run.config.canonical.at("model")},
      {"dataset", source.dataset.info.name},
      {"primer",
       {{"spec", options.primer},
        {"description", primer.description},
        {"frames", primer.roll.frames},
        {"dropped_notes", primer.dropped_notes}}},
      {"frames", options.frames},
      {"samples", options.samples},
      {"seed", options.seed},
      {"temperature", options.temperature},
      {"max_polyphony", options.max_polyphony},
      {"min_notes", options.min_notes},
      {"top_k", options.top_k},
      {"top_p", options.top_p},
      {"beam", options.beam},
      {"frames_per_quarter", source.frames_per_quarter},
      {"bpm", options.bpm},
      {"outputs", outputs},
  };
  if (source.run.config.config.model.type == config::ModelType::seq2seq) {
    record["segments"] = {{"context_frames", data.context_frames},
                          {"target_frames", data.target_frames}};
  }
  return record;
}

}  // namespace

int run_generate(const GenerateOptions& options) {
  check_flags(options);
  const GenerationSource source = open_source(options);
  ThreadScope scope(resolve_thread_budget(
      options.threads > 0 ? options.threads : source.run.config.config.threads.compute, 0,
      available_cores()));
  const Primer primer =
      load_primer(options.primer, source.dataset, source.frames_per_quarter, options.primer_frames);
  if (primer.dropped_notes > 0) {
    fmt::print(stderr, "note: {} primer notes lie outside the model's pitches and were dropped\n",
               primer.dropped_notes);
  }

  GenerationOptions generation;
  generation.frames = options.frames;
  generation.samples = options.samples;
  generation.sampling = {options.seed,      options.temperature, options.max_polyphony,
                         options.min_notes, options.top_k,       options.top_p};
  const auto started = std::chrono::steady_clock::now();
  std::vector<GeneratedSample> samples;
  nlohmann::json beam_scores = nlohmann::json::array();
  if (options.beam > 0) {
    for (BeamHypothesis& hypothesis :
         beam_search(*source.model, primer.roll, options.frames, options.beam, options.samples)) {
      beam_scores.push_back(
          {{"log_probability", hypothesis.log_probability}, {"score", hypothesis.score}});
      samples.push_back(std::move(hypothesis.sample));
    }
  } else {
    samples = generate_samples(*source.model, primer.roll, generation);
  }
  if (source.dataset.info.kind == kTokensKind) {
    const MelodyVocabulary vocabulary = melody_vocabulary(source.dataset.info);
    for (GeneratedSample& sample : samples) {
      sample.events = one_hot_events(sample.roll, vocabulary);
      sample.roll = melody_piano_roll(sample.events, vocabulary);
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  const fs::path out_dir =
      options.out.empty() ? default_out_dir(source.run, options.seed) : fs::path(options.out);
  fs::create_directories(out_dir);
  SampleOutputSettings settings;
  settings.folder = out_dir;
  settings.frames_per_quarter = source.frames_per_quarter;
  settings.microseconds_per_quarter = static_cast<int>(std::lround(60e6 / options.bpm));
  settings.caption =
      fmt::format("{}, seed {}, temperature {:g}", describe_model(source.run.config.config.model),
                  options.seed, options.temperature);
  settings.audio = options.wav;
  settings.soundfont = options.soundfont;
  std::string audio_message;
  const nlohmann::json outputs = write_samples(samples, settings, audio_message);
  nlohmann::json record = generation_record(options, source, primer, outputs);
  if (options.beam > 0) record["beam_scores"] = beam_scores;
  if (!audio_message.empty()) {
    fmt::print(stderr, "--wav: {}\n", audio_message);
    record["audio_message"] = audio_message;
  }
  write_file_atomic(out_dir / "generation.json", record.dump(2) + "\n");
  if (options.stats) write_stats(samples, source.dataset, out_dir);

  const double frames_per_s =
      static_cast<double>(options.frames) * options.samples / std::max(seconds, 1e-9);
  fmt::print(stderr,
             "generated {} sample(s) of {} frames after a primer of {} ({}) in {:.2f} s "
             "({:.0f} frames/s); files in {}\n",
             options.samples, options.frames, primer.roll.frames, primer.description, seconds,
             frames_per_s, out_dir.string());
  std::cout << nlohmann::json{{"out_dir", out_dir.string()},
                              {"outputs", outputs},
                              {"generation_s", seconds},
                              {"frames_per_s", frames_per_s}}
                   .dump()
            << "\n";
  return 0;
}

}  // namespace cadenza
