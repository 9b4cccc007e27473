// `cadenza data import SRC --out FILE.h5` and `cadenza data inspect FILE.h5`.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "data/dataset.hpp"
#include "data/inspect.hpp"
#include "data/locate.hpp"
#include "data/mat_import.hpp"
#include "data/midi_import.hpp"

namespace cadenza::cli {
namespace {

struct ImportOptions {
  std::string source;
  std::string out;
  int resolution = 4;
  int lowest_pitch = 21;
  int pitches = 88;
  std::string split_ratios = "0.8,0.1,0.1";
  std::string name;
  bool melody = false;
  int track = -1;
  int channel = 0;  // 1..16 on the command line, 0 = every channel but drums
  std::string out_of_range = "transpose";
  int max_rest_steps = 16;
  int min_events = 32;
};

// The MIDI-only flags given on the command line.
struct MidiFlags {
  CLI::Option* resolution = nullptr;
  CLI::Option* lowest_pitch = nullptr;
  CLI::Option* pitches = nullptr;
  CLI::Option* split_ratios = nullptr;
};

// The flags that only `--melody` uses.
struct MelodyFlags {
  std::array<CLI::Option*, 5> options{};  // --track, --channel, --out-of-range,
                                          // --max-rest-steps, --min-events
};

std::array<double, 3> parse_split_ratios(const std::string& text) {
  std::array<double, 3> ratios{};
  std::istringstream in(text);
  std::string field;
  size_t count = 0;
  while (std::getline(in, field, ',')) {
    size_t used = 0;
    double value = 0.0;
    try {
      value = std::stod(field, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (count >= ratios.size() || used == 0 || used != field.size() || !(value >= 0.0)) {
      count = ratios.size() + 1;
      break;
    }
    ratios[count++] = value;
  }
  if (count != ratios.size() || ratios[0] + ratios[1] + ratios[2] <= 0.0) {
    throw UsageError(fmt::format(
        "--split-ratios {}: expected three numbers >= 0 with a positive sum, train,valid,test "
        "(e.g. 0.8,0.1,0.1)",
        text));
  }
  return ratios;
}

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

void print_split_counts(const Dataset& dataset) {
  for (size_t s = 0; s < kSplitNames.size(); ++s) {
    fmt::print("  {:<6} {:>6} sequences {:>9} frames\n", kSplitNames[s],
               dataset.splits[s].sequences(), dataset.splits[s].frames());
  }
}

void print_token_counts(const TokenDataset& dataset) {
  for (size_t s = 0; s < kSplitNames.size(); ++s) {
    fmt::print("  {:<6} {:>6} sequences {:>9} events\n", kSplitNames[s],
               dataset.splits[s].sequences(), dataset.splits[s].total_events());
  }
}

void run_melody_import(const ImportOptions& options, const MidiFlags& midi_flags,
                       const std::string& name) {
  MelodyImportOptions melody;
  melody.melody.steps_per_quarter = options.resolution;
  if (midi_flags.lowest_pitch->count() > 0)
    melody.melody.vocabulary.lowest_pitch = options.lowest_pitch;
  if (midi_flags.pitches->count() > 0) melody.melody.vocabulary.pitches = options.pitches;
  melody.melody.track = options.track;
  melody.melody.channel = options.channel - 1;
  melody.melody.out_of_range =
      options.out_of_range == "skip" ? OutOfRange::skip : OutOfRange::transpose;
  melody.melody.max_rest_steps = options.max_rest_steps;
  melody.melody.min_events = options.min_events;
  melody.split_ratios = parse_split_ratios(options.split_ratios);
  melody.name = name;
  try {
    validate_melody_options(melody.melody);
  } catch (const ConfigError& e) {
    throw UsageError(e.what());
  }
  std::map<std::string, int64_t> reasons;
  const auto report = import_melody_folder(options.source, melody, [&](const SkippedFile& skipped) {
    fmt::print("skipped {}: {}\n", skipped.file, skipped.reason);
    ++reasons[skipped.reason.substr(0, skipped.reason.find(':'))];
  });
  fmt::print(
      "imported the melodies of {} of {} files ({} skipped); {} notes dropped as polyphony, {} "
      "moved by octaves into {}..{}, {} fragments shorter than {} events dropped\n",
      report.files_imported, report.files_seen, report.skipped.size(),
      report.notes_dropped_polyphony, report.notes_transposed,
      melody.melody.vocabulary.lowest_pitch,
      melody.melody.vocabulary.lowest_pitch + melody.melody.vocabulary.pitches - 1,
      report.fragments_too_short, melody.melody.min_events);
  for (const auto& [reason, count] : reasons)
    fmt::print("  skipped, {}: {}\n", reason, count);
  if (report.files_imported == 0) {
    throw InputError(
        fmt::format("{}: no melody could be imported; nothing written", options.source));
  }
  print_token_counts(report.dataset);
  write_token_dataset(options.out, report.dataset);
}

int run_import(const ImportOptions& options, const MidiFlags& midi_flags,
               const MelodyFlags& melody_flags) {
  const std::filesystem::path source = options.source;
  const std::filesystem::path out = options.out;
  const auto out_folder =
      out.parent_path().empty() ? std::filesystem::path(".") : out.parent_path();
  if (out.filename().empty() || !std::filesystem::is_directory(out_folder)) {
    throw UsageError(
        fmt::format("--out {}: the folder {} does not exist", options.out, out_folder.string()));
  }
  std::error_code error;
  if (std::filesystem::equivalent(source, out, error)) {
    throw UsageError(fmt::format("--out {} is the source itself", options.out));
  }
  if (!std::filesystem::exists(source)) {
    throw InputError(
        fmt::format("{}: no such file or folder (expected a .mat benchmark or a "
                    "folder of MIDI files)",
                    options.source));
  }
  auto normal_source = source.lexically_normal();
  if (normal_source.filename().empty()) normal_source = normal_source.parent_path();
  const std::string name = options.name.empty() ? normal_source.stem().string() : options.name;

  if (!options.melody) {
    for (const CLI::Option* flag : melody_flags.options) {
      if (flag->count() > 0) {
        throw UsageError(
            fmt::format("{} applies to a melody import; add --melody", flag->get_name()));
      }
    }
  }
  if (options.melody && !std::filesystem::is_directory(source)) {
    throw UsageError(
        fmt::format("--melody imports a folder of MIDI files; {} is not a folder", options.source));
  }
  if (options.melody) {
    run_melody_import(options, midi_flags, name);
  } else if (std::filesystem::is_directory(source)) {
    MidiImportOptions midi;
    midi.roll.frames_per_quarter = options.resolution;
    midi.roll.lowest_pitch = options.lowest_pitch;
    midi.roll.pitches = options.pitches;
    midi.split_ratios = parse_split_ratios(options.split_ratios);
    midi.name = name;
    try {
      validate_midi_import_options(midi);
    } catch (const ConfigError& e) {
      throw UsageError(e.what());
    }
    const auto report = import_midi_folder(source, midi, [](const SkippedFile& skipped) {
      fmt::print("skipped {}: {}\n", skipped.file, skipped.reason);
    });
    fmt::print("imported {} of {} files ({} skipped); {} notes outside the pitch range dropped\n",
               report.files_imported, report.files_seen, report.skipped.size(),
               report.notes_out_of_range);
    if (report.files_imported == 0) {
      throw InputError(
          fmt::format("{}: no file could be imported; nothing written", options.source));
    }
    print_split_counts(report.dataset);
    write_dataset(out, report.dataset);
  } else {
    if (lowercase(source.extension().string()) != ".mat") {
      throw InputError(fmt::format(
          "{}: not a .mat file or a folder; cadenza data import reads a .mat benchmark or a "
          "folder of MIDI files",
          options.source));
    }
    for (const CLI::Option* flag : {midi_flags.resolution, midi_flags.lowest_pitch,
                                    midi_flags.pitches, midi_flags.split_ratios}) {
      if (flag->count() > 0) {
        throw UsageError(fmt::format(
            "{} applies to a folder of MIDI files; a .mat benchmark has fixed splits, 88 "
            "pitches from 21 and an unknown resolution",
            flag->get_name()));
      }
    }
    const Dataset dataset = import_mat(source, name);
    fmt::print("imported {} from {}\n", dataset.info.name, options.source);
    print_split_counts(dataset);
    write_dataset(out, dataset);
  }
  fmt::print("wrote {}\n", options.out);
  return 0;
}

int run_inspect(const std::string& file) {
  if (read_dataset_header(file).info.kind == kTokensKind) {
    fmt::print("file                {}\n", file);
    fmt::print("{}", format_token_inspection(read_token_dataset(file)));
    return 0;
  }
  const Dataset dataset = read_dataset(file);
  std::array<SplitStatistics, 3> statistics;
  for (size_t s = 0; s < statistics.size(); ++s) {
    statistics[s] = compute_split_statistics(dataset.splits[s]);
  }
  fmt::print("file                {}\n", file);
  fmt::print("{}", format_inspection(dataset.info, statistics));
  return 0;
}

}  // namespace

void add_data_command(CLI::App& app, Action& action) {
  CLI::App* data = app.add_subcommand("data",
                                      "Import datasets into cadenza's HDF5 format, "
                                      "inspect and locate them");
  data->require_subcommand(1);

  auto import_options = std::make_shared<ImportOptions>();
  auto midi_flags = std::make_shared<MidiFlags>();
  CLI::App* import_command = data->add_subcommand(
      "import", "Import a .mat benchmark or a folder of MIDI files into one .h5 dataset");
  import_command
      ->add_option("SRC", import_options->source, "A .mat benchmark or a folder of MIDI files")
      ->required();
  import_command->add_option("--out", import_options->out, "The .h5 dataset to write")->required();
  midi_flags->resolution = import_command
                               ->add_option("--resolution", import_options->resolution,
                                            "MIDI: frames per quarter note (default 4)")
                               ->check(CLI::Range(1, 960));
  midi_flags->lowest_pitch = import_command
                                 ->add_option("--lowest-pitch", import_options->lowest_pitch,
                                              "MIDI: pitch of the first column (default 21 = A0)")
                                 ->check(CLI::Range(0, 127));
  midi_flags->pitches = import_command
                            ->add_option("--pitches", import_options->pitches,
                                         "MIDI: number of pitch columns (default 88)")
                            ->check(CLI::Range(1, 128));
  midi_flags->split_ratios = import_command->add_option(
      "--split-ratios", import_options->split_ratios,
      "MIDI: train,valid,test ratios; each file's split is fixed by a hash of its name "
      "(default 0.8,0.1,0.1)");
  import_command->add_option("--name", import_options->name,
                             "Dataset name (default: SRC's file stem)");
  auto melody_flags = std::make_shared<MelodyFlags>();
  import_command->add_flag("--melody", import_options->melody,
                           "MIDI: import the monophonic melody of each file as note events "
                           "(docs/melody.md); --resolution is then steps per quarter note, the "
                           "pitch range defaults to 48 and 36 pitches");
  melody_flags->options[0] =
      import_command
          ->add_option("--track", import_options->track,
                       "Melody: the track (MTrk index from 0) holding the melody (default: the "
                       "busiest non-drum track)")
          ->check(CLI::Range(0, 65535));
  melody_flags->options[1] =
      import_command
          ->add_option("--channel", import_options->channel,
                       "Melody: only notes of this MIDI channel, 1..16 (default: all but drums)")
          ->check(CLI::Range(1, 16));
  melody_flags->options[2] =
      import_command
          ->add_option("--out-of-range", import_options->out_of_range,
                       "Melody: transpose (move notes by octaves into the range, default) or skip "
                       "(skip the file)")
          ->check(CLI::IsMember({"transpose", "skip"}));
  melody_flags->options[3] =
      import_command
          ->add_option("--max-rest-steps", import_options->max_rest_steps,
                       "Melody: a longer rest splits the melody into fragments (default 16)")
          ->check(CLI::Range(0, 1 << 20));
  melody_flags->options[4] =
      import_command
          ->add_option("--min-events", import_options->min_events,
                       "Melody: fragments of fewer steps are dropped (default 32)")
          ->check(CLI::Range(2, 1 << 20));
  import_command->callback([import_options, midi_flags, melody_flags, &action] {
    action = [import_options, midi_flags, melody_flags] {
      return run_import(*import_options, *midi_flags, *melody_flags);
    };
  });

  auto inspect_file = std::make_shared<std::string>();
  CLI::App* inspect = data->add_subcommand(
      "inspect",
      "Print per-split statistics of a dataset: sequences, frames, polyphony, pitch "
      "histogram, silence ratio");
  inspect->add_option("FILE", *inspect_file, "A cadenza .h5 dataset")->required();
  inspect->callback(
      [inspect_file, &action] { action = [inspect_file] { return run_inspect(*inspect_file); }; });

  struct LocateOptions {
    std::string dataset;
    std::string root;
  };
  auto locate_options = std::make_shared<LocateOptions>();
  CLI::App* locate = data->add_subcommand(
      "locate",
      "Print the file a config's data.dataset resolves to (data.root, $CADENZA_DATA, "
      "../shared/datasets, datasets/cache), or where it looked");
  locate->add_option("DATASET", locate_options->dataset, "A benchmark name or a .h5/.mat path")
      ->required();
  locate->add_option("--root", locate_options->root, "Searched first, as data.root");
  locate->callback([locate_options, &action] {
    action = [locate_options] {
      fmt::print("{}\n", locate_dataset(locate_options->dataset, locate_options->root).string());
      return 0;
    };
  });
}

}  // namespace cadenza::cli
