#include "train/checkpoint_format.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <hdf5.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <set>
#include <sstream>
#include <utility>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/hdf5.hpp"
#include "core/json_text.hpp"
#include "core/sha256.hpp"

namespace cadenza {
namespace {

using hdf5::Handle;

static_assert(std::endian::native == std::endian::little,
              "checkpoint values are stored and checksummed as little-endian bytes");

namespace fs = std::filesystem;

// --- the checkpoint as a flat list of entries (what is stored and what is checksummed) --------

// One dataset or attribute. Keys: "/path/of/dataset" or "/path/of/object@attribute".
struct Entry {
  enum class Kind { kFloats, kInt, kString };
  Kind kind = Kind::kString;
  std::vector<int64_t> dims;  // kFloats only
  std::string bytes;          // raw little-endian values, or the UTF-8 string
};
using Entries = std::map<std::string, Entry>;

constexpr std::string_view kChecksumKey = "/@checksum";
constexpr std::string_view kParamsPrefix = "/params/";
constexpr std::string_view kOptimizerPrefix = "/optimizer/";

std::string type_tag(const Entry& entry) {
  switch (entry.kind) {
    case Entry::Kind::kFloats: {
      std::string tag = "f32";
      for (std::size_t i = 0; i < entry.dims.size(); ++i)
        tag += fmt::format("{}{}", i == 0 ? " " : "x", entry.dims[i]);
      return tag;
    }
    case Entry::Kind::kInt:
      return "i64";
    case Entry::Kind::kString:
      return "str";
  }
  return "";
}

// The sha256 (hex) of every entry but the checksum itself, as documented in checkpoint_format.hpp.
std::string entries_checksum(const Entries& entries) {
  std::string message;
  for (const auto& [key, entry] : entries) {
    if (key == kChecksumKey) continue;
    message += key;
    message += '\0';
    message += type_tag(entry);
    message += '\0';
    const auto length = static_cast<uint64_t>(entry.bytes.size());
    message.append(reinterpret_cast<const char*>(&length), sizeof length);
    message += entry.bytes;
  }
  return sha256_hex(message);
}

// A parameter or slot name must be a relative HDF5 path without empty, "." or ".." parts and
// without '@' (which separates attribute names in entry keys).
void check_name(std::string_view what, const std::string& name) {
  bool valid = !name.empty() && name.find('@') == std::string::npos;
  std::size_t start = 0;
  while (valid && start <= name.size()) {
    const std::size_t end = std::min(name.find('/', start), name.size());
    const std::string_view part = std::string_view(name).substr(start, end - start);
    valid = !part.empty() && part != "." && part != "..";
    start = end + 1;
  }
  if (!valid) {
    throw Error(fmt::format(
        "checkpoint: {} name \"{}\" cannot be stored (use non-empty parts separated by single "
        "'/', no '.', '..' or '@')",
        what, name));
  }
}

void put_string(Entries& entries, std::string key, std::string value) {
  entries[std::move(key)] = Entry{Entry::Kind::kString, {}, std::move(value)};
}

void put_int(Entries& entries, std::string key, int64_t value) {
  std::string bytes(sizeof value, '\0');
  std::memcpy(bytes.data(), &value, sizeof value);
  entries[std::move(key)] = Entry{Entry::Kind::kInt, {}, std::move(bytes)};
}

void put_floats(Entries& entries, std::string key, const Tensor& tensor) {
  std::string bytes(static_cast<std::size_t>(tensor.numel()) * sizeof(float), '\0');
  if (!bytes.empty()) std::memcpy(bytes.data(), tensor.data(), bytes.size());
  entries[std::move(key)] = Entry{Entry::Kind::kFloats, tensor.dims(), std::move(bytes)};
}

std::string metrics_jsonl(const std::vector<nlohmann::json>& rows) {
  std::string text;
  for (const nlohmann::json& row : rows)
    text += row.dump() + "\n";
  return text;
}

Entries to_entries(const CheckpointContents& contents) {
  Entries entries;
  put_string(entries, "/@magic", std::string(kCheckpointMagic));
  put_int(entries, "/@format_version", kCheckpointFormatVersion);
  put_string(entries, "/@config", contents.config_json);
  put_string(entries, "/@run_id", contents.run_id);
  put_int(entries, "/@step", contents.step);
  put_int(entries, "/@epoch", contents.epoch);
  put_string(entries, "/@created", contents.created.empty() ? utc_timestamp() : contents.created);
  for (const auto& [name, tensor] : contents.params) {
    check_name("parameter", name);
    put_floats(entries, std::string(kParamsPrefix) + name, tensor);
  }
  put_string(entries, "/optimizer@name", contents.optimizer.name);
  put_int(entries, "/optimizer@step", contents.optimizer.steps);
  for (const auto& [name, slots] : contents.optimizer.slots) {
    check_name("parameter", name);
    for (const auto& [slot, tensor] : slots) {
      check_name("optimiser slot", slot);
      put_floats(entries, std::string(kOptimizerPrefix) + name + "/" + slot, tensor);
    }
  }
  put_string(entries, "/schedule@state", contents.schedule.dump());
  put_string(entries, "/early_stopping@state", contents.early_stopping.dump());
  put_string(entries, "/rng@state", contents.rng.dump());
  put_string(entries, "/loader@position", contents.loader.dump());
  put_string(entries, "/epoch_progress@state", contents.epoch_progress.dump());
  put_string(entries, "/metrics@rows", metrics_jsonl(contents.metrics));
  put_string(entries, std::string(kChecksumKey), entries_checksum(entries));
  return entries;
}

// --- HDF5 plumbing ---------------------------------------------------------------------------

// ": <innermost HDF5 error message>", or "" when HDF5 reported none.
std::string hdf5_cause() {
  const std::string message = hdf5::error_cause();
  return message.empty() ? "" : ": " + message;
}

Handle utf8_string_type() {
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  return type;
}

// "/a/b@c" -> {"/a/b", "c"}; "/@c" -> {"/", "c"}; a dataset key has no '@'.
std::pair<std::string, std::string> split_attribute_key(const std::string& key) {
  const std::size_t at = key.find('@');
  std::string object = key.substr(0, at);
  return {object.empty() ? "/" : object, key.substr(at + 1)};
}

std::string parent_of(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

class Writer {
 public:
  Writer(hid_t file, fs::path shown) : file_(file), shown_(std::move(shown)) {}

  void write(const std::string& key, const Entry& entry) {
    if (entry.kind == Entry::Kind::kFloats) {
      ensure_group(parent_of(key));
      dataset(key, entry);
    } else {
      const auto [object_path, name] = split_attribute_key(key);
      ensure_group(object_path);
      const Handle object(H5Oopen(file_, object_path.c_str(), H5P_DEFAULT), H5Oclose);
      if (!object.valid()) fail(fmt::format("cannot open {}", object_path));
      attribute(object.get(), key, name, entry);
    }
  }

  // Creates every missing group along `path`.
  void ensure_group(const std::string& path) {
    if (path == "/" || groups_.count(path)) return;
    ensure_group(parent_of(path));
    const htri_t exists = H5Lexists(file_, path.c_str(), H5P_DEFAULT);
    if (exists < 0) fail(fmt::format("cannot look up {}", path));
    if (exists == 0) {
      const Handle group(H5Gcreate2(file_, path.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                         H5Gclose);
      if (!group.valid()) fail(fmt::format("cannot create group {}", path));
    }
    groups_.insert(path);
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw Error(
        fmt::format("cannot write checkpoint {}: {}{}", shown_.string(), what, hdf5_cause()));
  }

  void dataset(const std::string& path, const Entry& entry) const {
    std::vector<hsize_t> dims(entry.dims.begin(), entry.dims.end());
    const Handle space(dims.empty()
                           ? H5Screate(H5S_SCALAR)
                           : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                       H5Sclose);
    const Handle data(H5Dcreate2(file_, path.c_str(), H5T_IEEE_F32LE, space.get(), H5P_DEFAULT,
                                 H5P_DEFAULT, H5P_DEFAULT),
                      H5Dclose);
    if (!data.valid()) fail(fmt::format("cannot create dataset {}", path));
    if (!entry.bytes.empty() && H5Dwrite(data.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL,
                                         H5P_DEFAULT, entry.bytes.data()) < 0) {
      fail(fmt::format("cannot write dataset {}", path));
    }
  }

  void attribute(hid_t object, const std::string& key, const std::string& name,
                 const Entry& entry) const {
    const Handle space(H5Screate(H5S_SCALAR), H5Sclose);
    const bool is_int = entry.kind == Entry::Kind::kInt;
    const Handle string_type = utf8_string_type();
    const hid_t file_type = is_int ? H5T_STD_I64LE : string_type.get();
    const Handle attr(
        H5Acreate2(object, name.c_str(), file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT),
        H5Aclose);
    if (!attr.valid()) fail(fmt::format("cannot create attribute {}", key));
    herr_t written = -1;
    if (is_int) {
      written = H5Awrite(attr.get(), H5T_NATIVE_INT64, entry.bytes.data());
    } else {
      const char* text = entry.bytes.c_str();
      written = H5Awrite(attr.get(), string_type.get(), &text);
    }
    if (written < 0) fail(fmt::format("cannot write attribute {}", key));
  }

  hid_t file_;
  fs::path shown_;
  std::set<std::string> groups_;
};

class Reader {
 public:
  // `path` is the file `file` was opened from.
  Reader(hid_t file, fs::path path) : file_(file), shown_(std::move(path)) {
    std::error_code error;
    max_bytes_ = hdf5::max_data_bytes(fs::file_size(shown_, error));
    if (error) fail(error.message());
  }

  // Every dataset and attribute of the file.
  Entries read_all() {
    Entries entries;
    std::vector<std::pair<std::string, H5I_type_t>> objects = {{"/", H5I_GROUP}};
    for (const std::string& name : link_names()) {
      const std::string path = "/" + name;
      const Handle object(H5Oopen(file_, path.c_str(), H5P_DEFAULT), H5Oclose);
      if (!object.valid()) fail(fmt::format("cannot open {}", path));
      objects.emplace_back(path, H5Iget_type(object.get()));
    }
    for (const auto& [path, type] : objects) {
      const Handle object(H5Oopen(file_, path.c_str(), H5P_DEFAULT), H5Oclose);
      if (!object.valid()) fail(fmt::format("cannot open {}", path));
      if (type == H5I_DATASET) {
        entries[path] = dataset(object.get(), path);
      } else if (type != H5I_GROUP) {
        fail(fmt::format("{} is neither a group nor a dataset", path));
      }
      for (const std::string& name : attribute_names(object.get(), path)) {
        const std::string key = path + "@" + name;
        entries[key] = attribute(object.get(), key, name);
      }
    }
    return entries;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(fmt::format("checkpoint {}: {}{}", shown_.string(), what, hdf5_cause()));
  }

  // Names (relative to /) of every object reachable by hard links.
  std::vector<std::string> link_names() const {
    struct Visit {
      std::vector<std::string> names;
      std::string bad_link;
    } visit;
    const herr_t status = H5Lvisit(
        file_, H5_INDEX_NAME, H5_ITER_INC,
        [](hid_t, const char* name, const H5L_info_t* info, void* data) -> herr_t {
          auto& out = *static_cast<Visit*>(data);
          if (info->type != H5L_TYPE_HARD) {
            out.bad_link = name;
            return 1;
          }
          out.names.emplace_back(name);
          return 0;
        },
        &visit);
    if (status < 0) fail("cannot list the file's objects");
    if (!visit.bad_link.empty())
      fail(fmt::format("/{} is a soft or external link", visit.bad_link));
    return visit.names;
  }

  std::vector<std::string> attribute_names(hid_t object, const std::string& path) const {
    std::vector<std::string> names;
    hsize_t index = 0;
    const herr_t status = H5Aiterate2(
        object, H5_INDEX_NAME, H5_ITER_INC, &index,
        [](hid_t, const char* name, const H5A_info_t*, void* data) -> herr_t {
          static_cast<std::vector<std::string>*>(data)->emplace_back(name);
          return 0;
        },
        &names);
    if (status < 0) fail(fmt::format("cannot list the attributes of {}", path));
    return names;
  }

  Entry dataset(hid_t data, const std::string& path) const {
    const Handle type(H5Dget_type(data), H5Tclose);
    if (!type.valid() || H5Tget_class(type.get()) != H5T_FLOAT || H5Tget_size(type.get()) != 4) {
      fail(fmt::format("dataset {} is not float32", path));
    }
    const Handle space(H5Dget_space(data), H5Sclose);
    const int rank = space.valid() ? H5Sget_simple_extent_ndims(space.get()) : -1;
    if (rank < 0) fail(fmt::format("cannot read the shape of {}", path));
    std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
    H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
    if (!hdf5::fits(dims, sizeof(float), max_bytes_)) {
      fail(fmt::format("dataset {} declares [{}] elements, more than the file can hold", path,
                       fmt::join(dims, ", ")));
    }
    const std::string problem = hdf5::storage_problem(data);
    if (!problem.empty()) fail(fmt::format("dataset {} {}", path, problem));
    Entry entry{Entry::Kind::kFloats, std::vector<int64_t>(dims.begin(), dims.end()), {}};
    const auto count = static_cast<std::size_t>(H5Sget_simple_extent_npoints(space.get()));
    entry.bytes.assign(count * sizeof(float), '\0');
    if (count > 0 &&
        H5Dread(data, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, entry.bytes.data()) < 0) {
      fail(fmt::format("cannot read dataset {} (truncated or damaged file?)", path));
    }
    return entry;
  }

  Entry attribute(hid_t object, const std::string& key, const std::string& name) const {
    const Handle attr(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose);
    if (!attr.valid()) fail(fmt::format("cannot open attribute {}", key));
    const Handle space(H5Aget_space(attr.get()), H5Sclose);
    if (!space.valid() || H5Sget_simple_extent_type(space.get()) != H5S_SCALAR) {
      fail(fmt::format("attribute {} is not a scalar", key));
    }
    const Handle type(H5Aget_type(attr.get()), H5Tclose);
    const H5T_class_t type_class = type.valid() ? H5Tget_class(type.get()) : H5T_NO_CLASS;
    if (type_class == H5T_INTEGER) {
      int64_t value = 0;
      if (H5Aread(attr.get(), H5T_NATIVE_INT64, &value) < 0) {
        fail(fmt::format("cannot read attribute {}", key));
      }
      std::string bytes(sizeof value, '\0');
      std::memcpy(bytes.data(), &value, sizeof value);
      return Entry{Entry::Kind::kInt, {}, std::move(bytes)};
    }
    if (type_class == H5T_STRING && H5Tis_variable_str(type.get()) > 0) {
      const Handle memory_type = utf8_string_type();
      char* text = nullptr;
      if (H5Aread(attr.get(), memory_type.get(), &text) < 0) {
        fail(fmt::format("cannot read attribute {}", key));
      }
      Entry entry{Entry::Kind::kString, {}, text != nullptr ? std::string(text) : std::string()};
      H5free_memory(text);
      return entry;
    }
    fail(fmt::format("attribute {} is neither an integer nor a variable-length string", key));
  }

  hid_t file_;
  fs::path shown_;
  std::uintmax_t max_bytes_ = 0;  // hdf5::max_data_bytes of the file
};

// --- entries -> contents ---------------------------------------------------------------------

class Parser {
 public:
  Parser(Entries entries, fs::path shown)
      : entries_(std::move(entries)), shown_(std::move(shown)) {}

  CheckpointContents parse() {
    const int64_t version = check_identity();
    CheckpointContents contents;
    contents.config_json = take_string("/@config");
    contents.run_id = take_string("/@run_id");
    contents.step = take_int("/@step");
    contents.epoch = take_int("/@epoch");
    contents.created = take_string("/@created");
    contents.optimizer.name = take_string("/optimizer@name");
    contents.optimizer.steps = take_int("/optimizer@step");
    contents.schedule = take_json("/schedule@state");
    contents.early_stopping = take_json("/early_stopping@state");
    contents.rng = take_json("/rng@state");
    contents.loader = take_json("/loader@position");
    if (version >= 2) contents.epoch_progress = take_json("/epoch_progress@state");
    contents.metrics = take_jsonl("/metrics@rows");
    for (const auto& [key, entry] : entries_) {
      if (used_.count(key)) continue;
      if (entry.kind == Entry::Kind::kFloats && key.starts_with(kParamsPrefix)) {
        contents.params.emplace(key.substr(kParamsPrefix.size()), tensor(entry));
      } else if (entry.kind == Entry::Kind::kFloats && key.starts_with(kOptimizerPrefix)) {
        const std::string rest = key.substr(kOptimizerPrefix.size());
        const std::size_t slash = rest.rfind('/');
        if (slash == std::string::npos) {
          fail(fmt::format("optimiser dataset {} is not /optimizer/<parameter>/<slot>", key));
        }
        contents.optimizer.slots[rest.substr(0, slash)].emplace(rest.substr(slash + 1),
                                                                tensor(entry));
      } else {
        fail(fmt::format("unexpected {} {} (not part of format version {})",
                         entry.kind == Entry::Kind::kFloats ? "dataset" : "attribute", key,
                         version));
      }
    }
    return contents;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(fmt::format("checkpoint {}: {}", shown_.string(), what));
  }

  // Checks magic, version and checksum; returns the format version.
  int64_t check_identity() {
    const auto magic = entries_.find("/@magic");
    if (magic == entries_.end() || magic->second.kind != Entry::Kind::kString ||
        magic->second.bytes != kCheckpointMagic) {
      fail(fmt::format("not a cadenza checkpoint (root attribute magic is {}, expected \"{}\")",
                       magic == entries_.end() ? "missing" : "\"" + magic->second.bytes + "\"",
                       kCheckpointMagic));
    }
    used_.insert(magic->first);
    const int64_t version = take_int("/@format_version");
    if (version < kOldestCheckpointFormatVersion || version > kCheckpointFormatVersion) {
      fail(fmt::format("format_version {} is not supported (this build reads versions {} to {})",
                       version, kOldestCheckpointFormatVersion, kCheckpointFormatVersion));
    }
    const std::string stored = take_string(std::string(kChecksumKey));
    const std::string computed = entries_checksum(entries_);
    if (stored != computed) {
      fail(fmt::format("checksum mismatch (stored {}, computed {}): the file is damaged", stored,
                       computed));
    }
    return version;
  }

  const Entry& take(const std::string& key, Entry::Kind kind, std::string_view kind_name) {
    const auto found = entries_.find(key);
    if (found == entries_.end()) fail(fmt::format("missing {} {}", kind_name, key));
    if (found->second.kind != kind) fail(fmt::format("{} is not {}", key, kind_name));
    used_.insert(key);
    return found->second;
  }

  std::string take_string(const std::string& key) {
    return take(key, Entry::Kind::kString, "string attribute").bytes;
  }

  int64_t take_int(const std::string& key) {
    int64_t value = 0;
    std::memcpy(&value, take(key, Entry::Kind::kInt, "integer attribute").bytes.data(),
                sizeof value);
    return value;
  }

  nlohmann::json take_json(const std::string& key) {
    const std::string text = take_string(key);
    try {
      return parse_json_text(text, "attribute " + key, JsonSource::kInput);
    } catch (const InputError& e) {
      fail(e.what());
    }
  }

  std::vector<nlohmann::json> take_jsonl(const std::string& key) {
    std::istringstream lines(take_string(key));
    std::vector<nlohmann::json> rows;
    std::string line;
    while (std::getline(lines, line)) {
      if (line.empty()) continue;
      try {
        rows.push_back(parse_json_text(
            line, fmt::format("row {} of attribute {}", rows.size() + 1, key), JsonSource::kInput));
      } catch (const InputError& e) {
        fail(e.what());
      }
    }
    return rows;
  }

  static Tensor tensor(const Entry& entry) {
    Tensor t(entry.dims);
    if (!entry.bytes.empty()) std::memcpy(t.data(), entry.bytes.data(), entry.bytes.size());
    return t;
  }

  Entries entries_;
  fs::path shown_;
  std::set<std::string> used_;
};

std::string shape_text(const std::vector<int64_t>& dims) {
  std::string text = "[";
  for (std::size_t i = 0; i < dims.size(); ++i)
    text += (i ? ", " : "") + std::to_string(dims[i]);
  return text + "]";
}

}  // namespace

std::map<std::string, Tensor> snapshot_parameters(const std::vector<NamedParameter>& parameters) {
  std::map<std::string, Tensor> values;
  for (const NamedParameter& p : parameters) {
    if (!values.emplace(p.name, p.parameter->value).second) {
      throw Error(fmt::format("two parameters are named \"{}\"", p.name));
    }
  }
  return values;
}

void restore_parameters(const std::map<std::string, Tensor>& saved,
                        const std::vector<NamedParameter>& parameters, std::string_view source) {
  std::set<std::string> model_names;
  for (const NamedParameter& p : parameters) {
    model_names.insert(p.name);
    const auto found = saved.find(p.name);
    if (found == saved.end()) {
      throw InputError(fmt::format("{}: no saved value for parameter \"{}\"", source, p.name));
    }
    if (found->second.dims() != p.parameter->value.dims()) {
      throw InputError(fmt::format("{}: parameter \"{}\" is saved with shape {}, the model has {}",
                                   source, p.name, shape_text(found->second.dims()),
                                   shape_text(p.parameter->value.dims())));
    }
  }
  for (const auto& [name, value] : saved) {
    if (!model_names.count(name)) {
      throw InputError(fmt::format(
          "{}: saved parameter \"{}\" is not in the model (was it built from another config?)",
          source, name));
    }
  }
  for (const NamedParameter& p : parameters)
    p.parameter->value = saved.at(p.name);
}

void save_checkpoint(const fs::path& path, const CheckpointContents& contents) {
  const Entries entries = to_entries(contents);
  hdf5::write_file_atomic(path, [&](hid_t file) {
    Writer writer(file, path);
    writer.ensure_group("/params");
    for (const auto& [key, entry] : entries)
      writer.write(key, entry);
  });
}

CheckpointContents load_checkpoint(const fs::path& path) {
  std::error_code error;
  if (!fs::is_regular_file(path, error)) {
    throw InputError(fmt::format("checkpoint {}: no such file", path.string()));
  }
  const hdf5::QuietErrors quiet;
  Entries entries;
  {
    const Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    if (!file.valid()) {
      throw InputError(
          fmt::format("checkpoint {}: not a readable HDF5 file (truncated or damaged?){}",
                      path.string(), hdf5_cause()));
    }
    entries = Reader(file.get(), path).read_all();
  }
  return Parser(std::move(entries), path).parse();
}

int64_t checkpoint_parameter_count(const fs::path& path) {
  int64_t count = 0;
  for (const auto& [name, tensor] : load_checkpoint(path).params)
    count += tensor.numel();
  return count;
}

}  // namespace cadenza
