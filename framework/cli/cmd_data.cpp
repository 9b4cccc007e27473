// `cadenza data import SRC --out FILE.h5` and `cadenza data inspect FILE.h5`.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
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
};

// The MIDI-only flags given on the command line.
struct MidiFlags {
  CLI::Option* resolution = nullptr;
  CLI::Option* lowest_pitch = nullptr;
  CLI::Option* pitches = nullptr;
  CLI::Option* split_ratios = nullptr;
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

int run_import(const ImportOptions& options, const MidiFlags& midi_flags) {
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

  if (std::filesystem::is_directory(source)) {
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
  import_command->callback([import_options, midi_flags, &action] {
    action = [import_options, midi_flags] { return run_import(*import_options, *midi_flags); };
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
