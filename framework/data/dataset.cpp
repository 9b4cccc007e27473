#include "data/dataset.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <utility>

#include "core/error.hpp"
#include "core/hdf5.hpp"

namespace cadenza {
namespace {

constexpr int64_t kChunkFrames = 4096;
constexpr unsigned kDeflateLevel = 4;

void check_consistent(const std::filesystem::path& path, const Dataset& dataset) {
  const auto& info = dataset.info;
  if (info.num_pitches < 1 || info.lowest_pitch < 0 || info.lowest_pitch + info.num_pitches > 128) {
    throw InputError(fmt::format(
        "dataset {}: pitch range lowest_pitch = {}, num_pitches = {} is not within MIDI pitches "
        "0..127",
        path.string(), info.lowest_pitch, info.num_pitches));
  }
  for (size_t s = 0; s < dataset.splits.size(); ++s) {
    const auto& split = dataset.splits[s];
    const auto where = fmt::format("dataset {}, split {}", path.string(), kSplitNames[s]);
    if (split.pitches != info.num_pitches) {
      throw InputError(fmt::format("{}: {} pitches per frame, but num_pitches = {}", where,
                                   split.pitches, info.num_pitches));
    }
    if (split.offsets.empty() || split.offsets.front() != 0) {
      throw InputError(fmt::format("{}: offsets must start with 0", where));
    }
    for (int64_t i = 0; i < split.sequences(); ++i) {
      if (split.length(i) < 1) {
        throw InputError(fmt::format("{}: sequence {} has {} frames; every sequence needs >= 1",
                                     where, i, split.length(i)));
      }
    }
    if (static_cast<int64_t>(split.cells.size()) != split.frames() * split.pitches) {
      throw InputError(fmt::format("{}: {} cells for {} frames x {} pitches", where,
                                   split.cells.size(), split.frames(), split.pitches));
    }
    if (static_cast<int64_t>(split.names.size()) != split.sequences()) {
      throw InputError(fmt::format("{}: {} names for {} sequences", where, split.names.size(),
                                   split.sequences()));
    }
  }
}

// --- reading ---------------------------------------------------------------------------------

DatasetHeader read_header(const hdf5::Reader& file, const std::filesystem::path& path) {
  DatasetHeader header;
  const std::string format = file.read_string_attribute("/", "format");
  if (format != kDatasetFormat) {
    throw InputError(fmt::format("dataset {}: format attribute is \"{}\"; expected \"{}\"",
                                 path.string(), format, kDatasetFormat));
  }
  header.format_version = file.read_int_attribute("/", "format_version");
  if (header.format_version != kDatasetFormatVersion) {
    throw InputError(
        fmt::format("dataset {}: format_version {} is not supported; this cadenza reads version {}",
                    path.string(), header.format_version, kDatasetFormatVersion));
  }
  auto& info = header.info;
  info.name = file.read_string_attribute("/", "name");
  info.source = file.read_string_attribute("/", "source");
  info.source_sha256 = file.read_string_attribute("/", "source_sha256");
  info.created_by = file.read_string_attribute("/", "created_by");
  const int64_t frames_per_quarter = file.read_int_attribute("/", "frames_per_quarter");
  const int64_t lowest_pitch = file.read_int_attribute("/", "lowest_pitch");
  const int64_t num_pitches = file.read_int_attribute("/", "num_pitches");
  if (frames_per_quarter < 0 || frames_per_quarter > 1000000) {
    throw InputError(
        fmt::format("dataset {}: frames_per_quarter = {}; expected 0 (unknown) or a "
                    "positive count",
                    path.string(), frames_per_quarter));
  }
  if (num_pitches < 1 || lowest_pitch < 0 || lowest_pitch > 127 ||
      num_pitches > 128 - lowest_pitch) {
    throw InputError(fmt::format(
        "dataset {}: lowest_pitch = {}, num_pitches = {} is not within MIDI pitches 0..127",
        path.string(), lowest_pitch, num_pitches));
  }
  info.frames_per_quarter = static_cast<int>(frames_per_quarter);
  info.lowest_pitch = static_cast<int>(lowest_pitch);
  info.num_pitches = static_cast<int>(num_pitches);
  for (size_t s = 0; s < kSplitNames.size(); ++s) {
    const std::string group = fmt::format("/{}", kSplitNames[s]);
    file.require_group(group);
    header.counts[s].sequences = file.read_int_attribute(group, "sequences");
    header.counts[s].frames = file.read_int_attribute(group, "frames");
  }
  return header;
}

SplitRolls read_split_data(const hdf5::Reader& file, const std::filesystem::path& path,
                           const DatasetHeader& header, int split) {
  const std::string_view name = kSplitNames[split];
  const std::string group = fmt::format("/{}", name);
  const auto where = fmt::format("dataset {}, split {}", path.string(), name);
  const SplitCounts counts = header.counts[split];
  file.require_group(group);
  SplitRolls result;
  result.pitches = header.info.num_pitches;

  hdf5::Array<int64_t> offsets = file.read_i64(group + "/offsets");
  if (offsets.dims.size() != 1) file.fail(fmt::format("{}/offsets must be 1-D", group));
  if (counts.sequences < 0 || offsets.dims[0] != counts.sequences + 1) {
    throw InputError(fmt::format("{}: offsets has {} entries; expected sequences + 1 ({} + 1)",
                                 where, offsets.dims[0], counts.sequences));
  }
  result.offsets = std::move(offsets.values);
  if (result.offsets.front() != 0 || result.offsets.back() != counts.frames) {
    throw InputError(fmt::format("{}: offsets run from {} to {}; expected 0 to frames = {}", where,
                                 result.offsets.front(), result.offsets.back(), counts.frames));
  }
  for (int64_t i = 0; i < result.sequences(); ++i) {
    if (result.offsets[i + 1] <= result.offsets[i]) {
      throw InputError(
          fmt::format("{}: offsets[{}] = {} is not below offsets[{}] = {}; every "
                      "sequence needs at least one frame",
                      where, i, result.offsets[i], i + 1, result.offsets[i + 1]));
    }
  }

  hdf5::Array<uint8_t> rolls = file.read_u8(group + "/rolls");
  if (rolls.dims.size() != 2) file.fail(fmt::format("{}/rolls must be 2-D", group));
  if (rolls.dims[0] != counts.frames || rolls.dims[1] != result.pitches) {
    throw InputError(fmt::format("{}: rolls is [{}, {}]; expected [frames, num_pitches] = [{}, {}]",
                                 where, rolls.dims[0], rolls.dims[1], counts.frames,
                                 result.pitches));
  }
  result.cells = std::move(rolls.values);
  const auto bad =
      std::find_if(result.cells.begin(), result.cells.end(), [](uint8_t cell) { return cell > 1; });
  if (bad != result.cells.end()) {
    const auto index = static_cast<int64_t>(bad - result.cells.begin());
    throw InputError(fmt::format("{}: rolls[{}, {}] = {}; cells must be 0 or 1", where,
                                 index / result.pitches, index % result.pitches, *bad));
  }

  result.names = file.read_strings(group + "/names");
  if (static_cast<int64_t>(result.names.size()) != counts.sequences) {
    throw InputError(fmt::format("{}: names has {} entries; expected sequences = {}", where,
                                 result.names.size(), counts.sequences));
  }
  return result;
}

}  // namespace

int split_index(std::string_view split) {
  for (size_t s = 0; s < kSplitNames.size(); ++s) {
    if (kSplitNames[s] == split) return static_cast<int>(s);
  }
  throw ConfigError(
      fmt::format("split \"{}\" does not exist; valid splits: train, valid, test", split));
}

std::span<const uint8_t> SplitRolls::sequence_cells(int64_t sequence) const {
  return std::span<const uint8_t>(cells).subspan(static_cast<size_t>(offsets[sequence] * pitches),
                                                 static_cast<size_t>(length(sequence) * pitches));
}

void SplitRolls::append(const PianoRoll& roll, std::string name) {
  if (roll.pitches != pitches || roll.frames < 1 ||
      static_cast<int64_t>(roll.cells.size()) != roll.frames * roll.pitches) {
    throw InputError(fmt::format(
        "sequence {}: {} frames x {} pitches ({} cells) cannot join a split of {} pitches", name,
        roll.frames, roll.pitches, roll.cells.size(), pitches));
  }
  cells.insert(cells.end(), roll.cells.begin(), roll.cells.end());
  offsets.push_back(offsets.back() + roll.frames);
  names.push_back(std::move(name));
}

PianoRoll SplitRolls::sequence(int64_t sequence, int lowest_pitch) const {
  const auto source = sequence_cells(sequence);
  PianoRoll roll;
  roll.frames = length(sequence);
  roll.pitches = pitches;
  roll.lowest_pitch = lowest_pitch;
  roll.cells.assign(source.begin(), source.end());
  return roll;
}

void write_dataset(const std::filesystem::path& path, const Dataset& dataset) {
  check_consistent(path, dataset);
  hdf5::write_file_atomic(path, "dataset", [&](const hdf5::Writer& file) {
    const auto& info = dataset.info;
    file.write_string_attribute("/", "format", std::string(kDatasetFormat));
    file.write_int_attribute("/", "format_version", kDatasetFormatVersion);
    file.write_string_attribute("/", "name", info.name);
    file.write_string_attribute("/", "source", info.source);
    file.write_string_attribute("/", "source_sha256", info.source_sha256);
    file.write_int_attribute("/", "frames_per_quarter", info.frames_per_quarter);
    file.write_int_attribute("/", "lowest_pitch", info.lowest_pitch);
    file.write_int_attribute("/", "num_pitches", info.num_pitches);
    file.write_string_attribute("/", "created_by", std::string("cadenza ") + CADENZA_VERSION);
    for (size_t s = 0; s < kSplitNames.size(); ++s) {
      const auto& split = dataset.splits[s];
      const std::string group = fmt::format("/{}", kSplitNames[s]);
      file.create_group(group);
      file.write_int_attribute(group, "sequences", split.sequences());
      file.write_int_attribute(group, "frames", split.frames());
      // rolls: uint8 [frames, pitches], chunked along frames and deflated.
      const int64_t dims[2] = {split.frames(), split.pitches};
      file.write_u8_deflated(group + "/rolls", dims, split.cells, kChunkFrames, kDeflateLevel);
      // offsets: int64 [sequences + 1].
      file.write_i64(group + "/offsets", split.offsets);
      // names: variable-length UTF-8 strings [sequences].
      file.write_strings(group + "/names", split.names);
    }
  });
}

DatasetHeader read_dataset_header(const std::filesystem::path& path) {
  const hdf5::Reader file(path, "dataset");
  return read_header(file, path);
}

SplitRolls read_split(const std::filesystem::path& path, std::string_view split) {
  const int index = split_index(split);
  const hdf5::Reader file(path, "dataset");
  const DatasetHeader header = read_header(file, path);
  return read_split_data(file, path, header, index);
}

Dataset read_dataset(const std::filesystem::path& path) {
  const hdf5::Reader file(path, "dataset");
  const DatasetHeader header = read_header(file, path);
  Dataset dataset;
  dataset.info = header.info;
  for (int s = 0; s < static_cast<int>(kSplitNames.size()); ++s) {
    dataset.splits[s] = read_split_data(file, path, header, s);
  }
  return dataset;
}

}  // namespace cadenza
