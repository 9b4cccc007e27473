#include "data/dataset.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <string>
#include <tuple>
#include <utility>

#include "core/error.hpp"
#include "core/hdf5.hpp"

namespace cadenza {
namespace {

constexpr int64_t kChunkFrames = 4096;
constexpr unsigned kDeflateLevel = 4;

void check_consistent(const std::filesystem::path& path, const Dataset& dataset) {
  const auto& info = dataset.info;
  if (info.kind != kPianoRollKind) {
    throw InputError(fmt::format("dataset {}: kind \"{}\" written as a piano roll; expected \"{}\"",
                                 path.string(), info.kind, kPianoRollKind));
  }
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
  const auto root_attributes = file.attribute_names("/");
  if (std::find(root_attributes.begin(), root_attributes.end(), "kind") != root_attributes.end()) {
    info.kind = file.read_string_attribute("/", "kind");
    if (info.kind != kPianoRollKind && info.kind != kTokensKind) {
      throw InputError(
          fmt::format("dataset {}: kind attribute is \"{}\"; expected \"{}\" or \"{}\"",
                      path.string(), info.kind, kPianoRollKind, kTokensKind));
    }
  }
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
  const bool tokens = info.kind == kTokensKind;
  if (tokens) {
    const std::string vocabulary = file.read_string_attribute("/", "vocabulary");
    const std::string expected = melody_vocabulary(info).text();
    if (vocabulary != expected) {
      throw InputError(fmt::format(
          "dataset {}: vocabulary attribute is \"{}\"; with lowest_pitch = {} and num_pitches = {} "
          "it must be \"{}\"",
          path.string(), vocabulary, lowest_pitch, num_pitches, expected));
    }
    for (const auto& [attribute, field, highest] :
         {std::tuple{"melody_track", &info.melody_track, int64_t{65535}},
          std::tuple{"melody_channel", &info.melody_channel, int64_t{15}}}) {
      if (std::find(root_attributes.begin(), root_attributes.end(), attribute) ==
          root_attributes.end()) {
        continue;
      }
      const int64_t value = file.read_int_attribute("/", attribute);
      if (value < -1 || value > highest) {
        throw InputError(fmt::format("dataset {}: {} = {}; expected -1 (unset) or 0..{}",
                                     path.string(), attribute, value, highest));
      }
      *field = static_cast<int>(value);
    }
  }
  for (size_t s = 0; s < kSplitNames.size(); ++s) {
    const std::string group = fmt::format("/{}", kSplitNames[s]);
    file.require_group(group);
    header.counts[s].sequences = file.read_int_attribute(group, "sequences");
    header.counts[s].frames = file.read_int_attribute(group, tokens ? "events" : "frames");
  }
  return header;
}

// The offsets of a split: sequences + 1 entries rising from 0 to `total` (frames or events).
std::vector<int64_t> read_offsets(const hdf5::Reader& file, const std::string& group,
                                  const std::string& where, const SplitCounts& counts,
                                  const char* unit) {
  hdf5::Array<int64_t> offsets = file.read_i64(group + "/offsets");
  if (offsets.dims.size() != 1) file.fail(fmt::format("{}/offsets must be 1-D", group));
  if (counts.sequences < 0 || offsets.dims[0] != counts.sequences + 1) {
    throw InputError(fmt::format("{}: offsets has {} entries; expected sequences + 1 ({} + 1)",
                                 where, offsets.dims[0], counts.sequences));
  }
  std::vector<int64_t> values = std::move(offsets.values);
  if (values.front() != 0 || values.back() != counts.frames) {
    throw InputError(fmt::format("{}: offsets run from {} to {}; expected 0 to {} = {}", where,
                                 values.front(), values.back(), unit, counts.frames));
  }
  for (size_t i = 0; i + 1 < values.size(); ++i) {
    if (values[i + 1] <= values[i]) {
      throw InputError(
          fmt::format("{}: offsets[{}] = {} is not below offsets[{}] = {}; every "
                      "sequence needs at least one {}",
                      where, i, values[i], i + 1, values[i + 1],
                      std::string_view(unit).substr(0, std::string_view(unit).size() - 1)));
    }
  }
  return values;
}

SplitRolls read_split_data(const hdf5::Reader& file, const std::filesystem::path& path,
                           const DatasetHeader& header, int split) {
  if (header.info.kind != kPianoRollKind) {
    throw InputError(fmt::format(
        "dataset {}: kind is \"{}\" (melody events); a piano roll (kind \"{}\") is needed here",
        path.string(), header.info.kind, kPianoRollKind));
  }
  const std::string_view name = kSplitNames[split];
  const std::string group = fmt::format("/{}", name);
  const auto where = fmt::format("dataset {}, split {}", path.string(), name);
  const SplitCounts counts = header.counts[split];
  file.require_group(group);
  SplitRolls result;
  result.pitches = header.info.num_pitches;
  result.offsets = read_offsets(file, group, where, counts, "frames");

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

SplitTokens read_token_split(const hdf5::Reader& file, const std::filesystem::path& path,
                             const DatasetHeader& header, int split) {
  const std::string_view name = kSplitNames[split];
  const std::string group = fmt::format("/{}", name);
  const auto where = fmt::format("dataset {}, split {}", path.string(), name);
  const SplitCounts counts = header.counts[split];
  file.require_group(group);
  SplitTokens result;
  result.offsets = read_offsets(file, group, where, counts, "events");
  hdf5::Array<int64_t> events = file.read_i64(group + "/events");
  if (events.dims.size() != 1 || events.dims[0] != counts.frames) {
    throw InputError(fmt::format("{}: events has shape [{}]; expected [events] = [{}]", where,
                                 fmt::join(events.dims, ", "), counts.frames));
  }
  const int classes = melody_vocabulary(header.info).size();
  result.events.reserve(events.values.size());
  for (size_t i = 0; i < events.values.size(); ++i) {
    const int64_t event = events.values[i];
    if (event < 0 || event >= classes) {
      throw InputError(fmt::format("{}: events[{}] = {}; class ids run 0..{} (the vocabulary)",
                                   where, i, event, classes - 1));
    }
    result.events.push_back(static_cast<int16_t>(event));
  }
  result.names = file.read_strings(group + "/names");
  if (static_cast<int64_t>(result.names.size()) != counts.sequences) {
    throw InputError(fmt::format("{}: names has {} entries; expected sequences = {}", where,
                                 result.names.size(), counts.sequences));
  }
  return result;
}

void write_root_attributes(const hdf5::Writer& file, const DatasetInfo& info) {
  file.write_string_attribute("/", "format", std::string(kDatasetFormat));
  file.write_int_attribute("/", "format_version", kDatasetFormatVersion);
  file.write_string_attribute("/", "name", info.name);
  file.write_string_attribute("/", "source", info.source);
  file.write_string_attribute("/", "source_sha256", info.source_sha256);
  file.write_int_attribute("/", "frames_per_quarter", info.frames_per_quarter);
  file.write_int_attribute("/", "lowest_pitch", info.lowest_pitch);
  file.write_int_attribute("/", "num_pitches", info.num_pitches);
  if (info.kind == kTokensKind) {
    file.write_int_attribute("/", "melody_track", info.melody_track);
    file.write_int_attribute("/", "melody_channel", info.melody_channel);
  }
  file.write_string_attribute("/", "created_by", std::string("cadenza ") + CADENZA_VERSION);
}

}  // namespace

MelodyVocabulary melody_vocabulary(const DatasetInfo& info) {
  return MelodyVocabulary{info.lowest_pitch, info.num_pitches};
}

int frame_width(const DatasetInfo& info) {
  return info.kind == kTokensKind ? melody_vocabulary(info).size() : info.num_pitches;
}

Dataset one_hot_dataset(const TokenDataset& tokens) {
  Dataset dataset;
  dataset.info = tokens.info;
  const int classes = frame_width(tokens.info);
  for (size_t s = 0; s < kSplitNames.size(); ++s) {
    const SplitTokens& source = tokens.splits[s];
    SplitRolls& rolls = dataset.splits[s];
    rolls.pitches = classes;
    for (int64_t sequence = 0; sequence < source.sequences(); ++sequence) {
      rolls.append(one_hot_roll(source.sequence(sequence), melody_vocabulary(tokens.info)),
                   source.names[static_cast<size_t>(sequence)]);
    }
  }
  return dataset;
}

std::span<const int16_t> SplitTokens::sequence(int64_t sequence) const {
  return std::span<const int16_t>(events).subspan(static_cast<size_t>(offsets[sequence]),
                                                  static_cast<size_t>(length(sequence)));
}

void SplitTokens::append(std::span<const int16_t> sequence_events, std::string name) {
  if (sequence_events.empty()) {
    throw InputError(fmt::format("sequence {}: no events; every sequence needs >= 1", name));
  }
  events.insert(events.end(), sequence_events.begin(), sequence_events.end());
  offsets.push_back(offsets.back() + static_cast<int64_t>(sequence_events.size()));
  names.push_back(std::move(name));
}

void write_token_dataset(const std::filesystem::path& path, const TokenDataset& dataset) {
  const auto& info = dataset.info;
  if (info.kind != kTokensKind) {
    throw InputError(fmt::format("dataset {}: kind \"{}\" written as tokens; expected \"{}\"",
                                 path.string(), info.kind, kTokensKind));
  }
  try {
    validate_vocabulary(melody_vocabulary(info));
  } catch (const ConfigError& e) {
    throw InputError(fmt::format("dataset {}: {}", path.string(), e.what()));
  }
  const int classes = melody_vocabulary(info).size();
  for (size_t s = 0; s < dataset.splits.size(); ++s) {
    const auto& split = dataset.splits[s];
    const auto where = fmt::format("dataset {}, split {}", path.string(), kSplitNames[s]);
    if (split.offsets.empty() || split.offsets.front() != 0 ||
        split.total_events() != static_cast<int64_t>(split.events.size()) ||
        static_cast<int64_t>(split.names.size()) != split.sequences()) {
      throw InputError(fmt::format("{}: {} offsets ending at {}, {} events and {} names disagree",
                                   where, split.offsets.size(), split.offsets.back(),
                                   split.events.size(), split.names.size()));
    }
    const auto bad = std::find_if(split.events.begin(), split.events.end(),
                                  [&](int16_t e) { return e < 0 || e >= classes; });
    if (bad != split.events.end()) {
      throw InputError(fmt::format("{}: event {} at {} is outside the vocabulary 0..{}", where,
                                   *bad, bad - split.events.begin(), classes - 1));
    }
  }
  hdf5::write_file_atomic(path, "dataset", [&](const hdf5::Writer& file) {
    write_root_attributes(file, info);
    file.write_string_attribute("/", "kind", std::string(kTokensKind));
    file.write_string_attribute("/", "vocabulary", melody_vocabulary(info).text());
    for (size_t s = 0; s < kSplitNames.size(); ++s) {
      const auto& split = dataset.splits[s];
      const std::string group = fmt::format("/{}", kSplitNames[s]);
      file.create_group(group);
      file.write_int_attribute(group, "sequences", split.sequences());
      file.write_int_attribute(group, "events", split.total_events());
      // events: int16 [events]; offsets: int64 [sequences + 1]; names: strings [sequences].
      file.write_i16(group + "/events", split.events);
      file.write_i64(group + "/offsets", split.offsets);
      file.write_strings(group + "/names", split.names);
    }
  });
}

TokenDataset read_token_dataset(const std::filesystem::path& path) {
  const hdf5::Reader file(path, "dataset");
  const DatasetHeader header = read_header(file, path);
  if (header.info.kind != kTokensKind) {
    throw InputError(fmt::format(
        "dataset {}: kind is \"{}\"; melody events (kind \"{}\", from cadenza data import "
        "--melody) are needed here",
        path.string(), header.info.kind, kTokensKind));
  }
  TokenDataset dataset;
  dataset.info = header.info;
  for (int s = 0; s < static_cast<int>(kSplitNames.size()); ++s) {
    dataset.splits[s] = read_token_split(file, path, header, s);
  }
  return dataset;
}

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
    write_root_attributes(file, dataset.info);
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
