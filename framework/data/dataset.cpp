#include "data/dataset.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <hdf5.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <new>
#include <set>
#include <utility>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/hdf5.hpp"

namespace cadenza {
namespace {

using hdf5::Handle;

constexpr hsize_t kChunkFrames = 4096;
constexpr unsigned kDeflateLevel = 4;

// Reading problems are the file's fault: InputError naming the file.
[[noreturn]] void fail_read(const std::filesystem::path& path, std::string_view what) {
  const std::string cause = hdf5::error_cause();
  throw InputError(
      fmt::format("dataset {}: {}{}{}", path.string(), what, cause.empty() ? "" : ": ", cause));
}

[[noreturn]] void fail_write(const std::filesystem::path& path, std::string_view what) {
  const std::string cause = hdf5::error_cause();
  throw Error(fmt::format("cannot write dataset {}: {}{}{}", path.string(), what,
                          cause.empty() ? "" : ": ", cause));
}

Handle utf8_string_type() {
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  return type;
}

// Memory for the strings of a variable-length string read, given to HDF5 through its vlen memory
// manager hooks. Every string is freed when this goes away, also those HDF5 had converted before a
// read failed part-way: HDF5 itself loses those (they sit in its conversion buffer).
class StringArena {
 public:
  StringArena() : transfer_(H5Pcreate(H5P_DATASET_XFER), H5Pclose) {
    H5Pset_vlen_mem_manager(transfer_.get(), allocate, this, release, this);
  }
  ~StringArena() {
    for (void* block : blocks_)
      std::free(block);
  }
  StringArena(const StringArena&) = delete;
  StringArena& operator=(const StringArena&) = delete;
  // The dataset transfer property list to read with.
  hid_t transfer() const { return transfer_.get(); }

 private:
  static void* allocate(size_t size, void* arena) {
    void* block = std::malloc(size);
    try {
      if (block != nullptr) static_cast<StringArena*>(arena)->blocks_.insert(block);
    } catch (const std::bad_alloc&) {
      std::free(block);
      return nullptr;
    }
    return block;
  }
  static void release(void* block, void* arena) {
    static_cast<StringArena*>(arena)->blocks_.erase(block);
    std::free(block);
  }

  Handle transfer_;
  std::set<void*> blocks_;
};

// --- writing ---------------------------------------------------------------------------------

class Writer {
 public:
  explicit Writer(std::filesystem::path shown_path) : shown_path_(std::move(shown_path)) {}

  void string_attribute(hid_t object, const char* name, const std::string& value) const {
    const Handle type = utf8_string_type();
    const Handle space(H5Screate(H5S_SCALAR), H5Sclose);
    const Handle attribute(
        H5Acreate2(object, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
    const char* text = value.c_str();
    if (!attribute.valid() || H5Awrite(attribute.get(), type.get(), &text) < 0) {
      fail_write(shown_path_, fmt::format("attribute {}", name));
    }
  }

  void int_attribute(hid_t object, const char* name, int64_t value) const {
    const Handle space(H5Screate(H5S_SCALAR), H5Sclose);
    const Handle attribute(
        H5Acreate2(object, name, H5T_STD_I64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
    if (!attribute.valid() || H5Awrite(attribute.get(), H5T_NATIVE_INT64, &value) < 0) {
      fail_write(shown_path_, fmt::format("attribute {}", name));
    }
  }

  // rolls: uint8 [frames, pitches], chunked along frames and deflated.
  void rolls(hid_t group, const SplitRolls& split) const {
    const hsize_t dims[2] = {static_cast<hsize_t>(split.frames()),
                             static_cast<hsize_t>(split.pitches)};
    const hsize_t max_dims[2] = {H5S_UNLIMITED, dims[1]};
    const hsize_t chunk[2] = {std::clamp<hsize_t>(dims[0], 1, kChunkFrames), dims[1]};
    const Handle space(H5Screate_simple(2, dims, max_dims), H5Sclose);
    const Handle properties(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
    if (H5Pset_chunk(properties.get(), 2, chunk) < 0 ||
        H5Pset_deflate(properties.get(), kDeflateLevel) < 0) {
      fail_write(shown_path_, "chunked, deflated layout of rolls");
    }
    const Handle data(H5Dcreate2(group, "rolls", H5T_STD_U8LE, space.get(), H5P_DEFAULT,
                                 properties.get(), H5P_DEFAULT),
                      H5Dclose);
    if (!data.valid()) fail_write(shown_path_, "rolls");
    if (dims[0] > 0 && H5Dwrite(data.get(), H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                                split.cells.data()) < 0) {
      fail_write(shown_path_, "rolls");
    }
  }

  // offsets: int64 [sequences + 1].
  void offsets(hid_t group, const SplitRolls& split) const {
    const hsize_t dims[1] = {split.offsets.size()};
    const Handle space(H5Screate_simple(1, dims, nullptr), H5Sclose);
    const Handle data(H5Dcreate2(group, "offsets", H5T_STD_I64LE, space.get(), H5P_DEFAULT,
                                 H5P_DEFAULT, H5P_DEFAULT),
                      H5Dclose);
    if (!data.valid() || H5Dwrite(data.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                                  split.offsets.data()) < 0) {
      fail_write(shown_path_, "offsets");
    }
  }

  // names: variable-length UTF-8 strings [sequences].
  void names(hid_t group, const SplitRolls& split) const {
    const hsize_t dims[1] = {split.names.size()};
    const Handle type = utf8_string_type();
    const Handle space(H5Screate_simple(1, dims, nullptr), H5Sclose);
    const Handle data(
        H5Dcreate2(group, "names", type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
        H5Dclose);
    if (!data.valid()) fail_write(shown_path_, "names");
    std::vector<const char*> texts;
    texts.reserve(split.names.size());
    for (const auto& name : split.names)
      texts.push_back(name.c_str());
    if (!texts.empty() &&
        H5Dwrite(data.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, texts.data()) < 0) {
      fail_write(shown_path_, "names");
    }
  }

 private:
  std::filesystem::path shown_path_;
};

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

class Reader {
 public:
  explicit Reader(std::filesystem::path path) : path_(std::move(path)) {
    if (!std::filesystem::is_regular_file(path_)) fail_read(path_, "no such file");
    if (H5Fis_hdf5(path_.c_str()) <= 0) fail_read(path_, "not an HDF5 file");
    file_ = std::make_unique<Handle>(H5Fopen(path_.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    if (!file_->valid()) fail_read(path_, "cannot open");
    std::error_code error;
    max_bytes_ = hdf5::max_data_bytes(std::filesystem::file_size(path_, error));
    if (error) fail_read(path_, error.message());
  }

  hid_t file() const { return file_->get(); }

  Handle open_group(std::string_view name) const {
    const std::string key(name);
    if (H5Lexists(file(), key.c_str(), H5P_DEFAULT) <= 0) {
      fail_read(path_, fmt::format("missing group /{}", name));
    }
    Handle group(H5Gopen2(file(), key.c_str(), H5P_DEFAULT), H5Gclose);
    if (!group.valid()) fail_read(path_, fmt::format("/{} is not a group", name));
    return group;
  }

  Handle open_attribute(hid_t object, const std::string& where, const char* name) const {
    if (H5Aexists(object, name) <= 0) {
      fail_read(path_, fmt::format("missing attribute {}{}", where, name));
    }
    Handle attribute(H5Aopen(object, name, H5P_DEFAULT), H5Aclose);
    const Handle space(H5Aget_space(attribute.get()), H5Sclose);
    if (!attribute.valid() || H5Sget_simple_extent_npoints(space.get()) != 1) {
      fail_read(path_, fmt::format("attribute {}{} must be a single value", where, name));
    }
    return attribute;
  }

  std::string string_attribute(hid_t object, const std::string& where, const char* name) const {
    const Handle attribute = open_attribute(object, where, name);
    const Handle file_type(H5Aget_type(attribute.get()), H5Tclose);
    if (H5Tget_class(file_type.get()) != H5T_STRING) {
      fail_read(path_, fmt::format("attribute {}{} must be a string", where, name));
    }
    if (H5Tis_variable_str(file_type.get()) > 0) {
      const Handle memory_type = utf8_string_type();
      char* text = nullptr;
      if (H5Aread(attribute.get(), memory_type.get(), &text) < 0) {
        fail_read(path_, fmt::format("attribute {}{}", where, name));
      }
      std::string value = text != nullptr ? text : "";
      H5free_memory(text);
      return value;
    }
    const size_t size = H5Tget_size(file_type.get());
    if (size > max_bytes_) {
      fail_read(path_, fmt::format("attribute {}{} declares a {}-byte string, more than the file "
                                   "can hold",
                                   where, name, size));
    }
    const Handle memory_type(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(memory_type.get(), size);
    std::string value(size, '\0');
    if (H5Aread(attribute.get(), memory_type.get(), value.data()) < 0) {
      fail_read(path_, fmt::format("attribute {}{}", where, name));
    }
    value.resize(value.find('\0') == std::string::npos ? size : value.find('\0'));
    return value;
  }

  int64_t int_attribute(hid_t object, const std::string& where, const char* name) const {
    const Handle attribute = open_attribute(object, where, name);
    const Handle file_type(H5Aget_type(attribute.get()), H5Tclose);
    int64_t value = 0;
    if (H5Tget_class(file_type.get()) != H5T_INTEGER ||
        H5Aread(attribute.get(), H5T_NATIVE_INT64, &value) < 0) {
      fail_read(path_, fmt::format("attribute {}{} must be an integer", where, name));
    }
    return value;
  }

  // Opens /<group>/<name> and checks its rank and type class, that it can be read into
  // `element_bytes` per element without needing more memory than the file can hold data, and
  // its storage (hdf5::storage_problem); returns it with its dimensions.
  Handle open_dataset(hid_t group, std::string_view split, const char* name, int rank,
                      H5T_class_t type_class, size_t element_bytes,
                      std::vector<hsize_t>& dims) const {
    if (H5Lexists(group, name, H5P_DEFAULT) <= 0) {
      fail_read(path_, fmt::format("missing dataset /{}/{}", split, name));
    }
    Handle data(H5Dopen2(group, name, H5P_DEFAULT), H5Dclose);
    if (!data.valid()) fail_read(path_, fmt::format("/{}/{} is not a dataset", split, name));
    const Handle space(H5Dget_space(data.get()), H5Sclose);
    const Handle type(H5Dget_type(data.get()), H5Tclose);
    if (H5Sget_simple_extent_ndims(space.get()) != rank || H5Tget_class(type.get()) != type_class) {
      fail_read(path_, fmt::format("/{}/{} must be a {}-D {} array", split, name, rank,
                                   type_class == H5T_STRING ? "string" : "integer"));
    }
    dims.assign(static_cast<size_t>(rank), 0);
    H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
    if (!hdf5::fits(dims, element_bytes, max_bytes_)) {
      fail_read(path_, fmt::format("/{}/{} declares [{}] elements, more than the file can hold",
                                   split, name, fmt::join(dims, ", ")));
    }
    const std::string problem = hdf5::storage_problem(data.get());
    if (!problem.empty()) fail_read(path_, fmt::format("/{}/{} {}", split, name, problem));
    return data;
  }

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::unique_ptr<Handle> file_;
  std::uintmax_t max_bytes_ = 0;  // hdf5::max_data_bytes of the file
};

DatasetHeader read_header(const Reader& reader) {
  const hid_t root = reader.file();
  const auto& path = reader.path();
  DatasetHeader header;
  const std::string format = reader.string_attribute(root, "/", "format");
  if (format != kDatasetFormat) {
    throw InputError(fmt::format("dataset {}: format attribute is \"{}\"; expected \"{}\"",
                                 path.string(), format, kDatasetFormat));
  }
  header.format_version = reader.int_attribute(root, "/", "format_version");
  if (header.format_version != kDatasetFormatVersion) {
    throw InputError(
        fmt::format("dataset {}: format_version {} is not supported; this cadenza reads version {}",
                    path.string(), header.format_version, kDatasetFormatVersion));
  }
  auto& info = header.info;
  info.name = reader.string_attribute(root, "/", "name");
  info.source = reader.string_attribute(root, "/", "source");
  info.source_sha256 = reader.string_attribute(root, "/", "source_sha256");
  info.created_by = reader.string_attribute(root, "/", "created_by");
  const int64_t frames_per_quarter = reader.int_attribute(root, "/", "frames_per_quarter");
  const int64_t lowest_pitch = reader.int_attribute(root, "/", "lowest_pitch");
  const int64_t num_pitches = reader.int_attribute(root, "/", "num_pitches");
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
    const Handle group = reader.open_group(kSplitNames[s]);
    const std::string where = fmt::format("/{} ", kSplitNames[s]);
    header.counts[s].sequences = reader.int_attribute(group.get(), where, "sequences");
    header.counts[s].frames = reader.int_attribute(group.get(), where, "frames");
  }
  return header;
}

SplitRolls read_split_data(const Reader& reader, const DatasetHeader& header, int split) {
  const auto& path = reader.path();
  const std::string_view name = kSplitNames[split];
  const auto where = fmt::format("dataset {}, split {}", path.string(), name);
  const SplitCounts counts = header.counts[split];
  const Handle group = reader.open_group(name);
  SplitRolls result;
  result.pitches = header.info.num_pitches;

  std::vector<hsize_t> dims;
  const Handle offsets =
      reader.open_dataset(group.get(), name, "offsets", 1, H5T_INTEGER, sizeof(int64_t), dims);
  if (counts.sequences < 0 || dims[0] != static_cast<hsize_t>(counts.sequences) + 1) {
    throw InputError(fmt::format("{}: offsets has {} entries; expected sequences + 1 ({} + 1)",
                                 where, dims[0], counts.sequences));
  }
  result.offsets.assign(dims[0], 0);
  if (H5Dread(offsets.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT,
              result.offsets.data()) < 0) {
    fail_read(path, fmt::format("reading /{}/offsets", name));
  }
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

  const Handle rolls =
      reader.open_dataset(group.get(), name, "rolls", 2, H5T_INTEGER, sizeof(uint8_t), dims);
  if (dims[0] != static_cast<hsize_t>(counts.frames) ||
      dims[1] != static_cast<hsize_t>(result.pitches)) {
    throw InputError(fmt::format("{}: rolls is [{}, {}]; expected [frames, num_pitches] = [{}, {}]",
                                 where, dims[0], dims[1], counts.frames, result.pitches));
  }
  result.cells.assign(dims[0] * dims[1], 0);
  if (!result.cells.empty() && H5Dread(rolls.get(), H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                                       result.cells.data()) < 0) {
    fail_read(path, fmt::format("reading /{}/rolls", name));
  }
  const auto bad =
      std::find_if(result.cells.begin(), result.cells.end(), [](uint8_t cell) { return cell > 1; });
  if (bad != result.cells.end()) {
    const auto index = static_cast<int64_t>(bad - result.cells.begin());
    throw InputError(fmt::format("{}: rolls[{}, {}] = {}; cells must be 0 or 1", where,
                                 index / result.pitches, index % result.pitches, *bad));
  }

  const Handle names =
      reader.open_dataset(group.get(), name, "names", 1, H5T_STRING, sizeof(char*), dims);
  if (dims[0] != static_cast<hsize_t>(counts.sequences)) {
    throw InputError(fmt::format("{}: names has {} entries; expected sequences = {}", where,
                                 dims[0], counts.sequences));
  }
  if (dims[0] > 0) {
    const Handle memory_type = utf8_string_type();
    StringArena arena;
    std::vector<char*> texts(dims[0], nullptr);
    const herr_t status =
        H5Dread(names.get(), memory_type.get(), H5S_ALL, H5S_ALL, arena.transfer(), texts.data());
    if (status < 0) {
      fail_read(path, fmt::format("reading /{}/names (variable-length strings expected)", name));
    }
    result.names.reserve(texts.size());
    for (const char* text : texts)
      result.names.emplace_back(text != nullptr ? text : "");
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
  hdf5::write_file_atomic(path, [&](hid_t file) {
    const Writer writer(path);
    const auto& info = dataset.info;
    writer.string_attribute(file, "format", std::string(kDatasetFormat));
    writer.int_attribute(file, "format_version", kDatasetFormatVersion);
    writer.string_attribute(file, "name", info.name);
    writer.string_attribute(file, "source", info.source);
    writer.string_attribute(file, "source_sha256", info.source_sha256);
    writer.int_attribute(file, "frames_per_quarter", info.frames_per_quarter);
    writer.int_attribute(file, "lowest_pitch", info.lowest_pitch);
    writer.int_attribute(file, "num_pitches", info.num_pitches);
    writer.string_attribute(file, "created_by", std::string("cadenza ") + CADENZA_VERSION);
    for (size_t s = 0; s < kSplitNames.size(); ++s) {
      const auto& split = dataset.splits[s];
      const Handle group(
          H5Gcreate2(file, std::string(kSplitNames[s]).c_str(), H5P_DEFAULT, H5P_DEFAULT,
                     H5P_DEFAULT),
          H5Gclose);
      if (!group.valid()) fail_write(path, fmt::format("group /{}", kSplitNames[s]));
      writer.int_attribute(group.get(), "sequences", split.sequences());
      writer.int_attribute(group.get(), "frames", split.frames());
      writer.rolls(group.get(), split);
      writer.offsets(group.get(), split);
      writer.names(group.get(), split);
    }
  });
}

DatasetHeader read_dataset_header(const std::filesystem::path& path) {
  const hdf5::QuietErrors quiet;
  const Reader reader(path);
  return read_header(reader);
}

SplitRolls read_split(const std::filesystem::path& path, std::string_view split) {
  const int index = split_index(split);
  const hdf5::QuietErrors quiet;
  const Reader reader(path);
  const DatasetHeader header = read_header(reader);
  return read_split_data(reader, header, index);
}

Dataset read_dataset(const std::filesystem::path& path) {
  const hdf5::QuietErrors quiet;
  const Reader reader(path);
  const DatasetHeader header = read_header(reader);
  Dataset dataset;
  dataset.info = header.info;
  for (int s = 0; s < static_cast<int>(kSplitNames.size()); ++s) {
    dataset.splits[s] = read_split_data(reader, header, s);
  }
  return dataset;
}

}  // namespace cadenza
