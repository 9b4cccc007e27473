#include "train/checkpoint_format.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <set>
#include <span>
#include <sstream>
#include <utility>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/hdf5.hpp"
#include "core/json_text.hpp"
#include "core/sha256.hpp"

namespace cadenza {
namespace {

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

// --- entries <-> HDF5 ------------------------------------------------------------------------

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

std::span<const float> floats_of(const Entry& entry) {
  return {reinterpret_cast<const float*>(entry.bytes.data()), entry.bytes.size() / sizeof(float)};
}

// Writes entries, creating the groups along their paths.
class EntryWriter {
 public:
  explicit EntryWriter(const hdf5::Writer& file) : file_(file) {}

  void write(const std::string& key, const Entry& entry) {
    if (entry.kind == Entry::Kind::kFloats) {
      ensure_group(parent_of(key));
      file_.write_f32(key, entry.dims, floats_of(entry));
      return;
    }
    const auto [object, name] = split_attribute_key(key);
    ensure_group(object);
    if (entry.kind == Entry::Kind::kInt) {
      int64_t value = 0;
      std::memcpy(&value, entry.bytes.data(), sizeof value);
      file_.write_int_attribute(object, name, value);
    } else {
      file_.write_string_attribute(object, name, entry.bytes);
    }
  }

  // Creates every missing group along `path`.
  void ensure_group(const std::string& path) {
    if (path == "/" || groups_.count(path)) return;
    ensure_group(parent_of(path));
    if (!file_.exists(path)) file_.create_group(path);
    groups_.insert(path);
  }

 private:
  const hdf5::Writer& file_;
  std::set<std::string> groups_;
};

// Every dataset and attribute of the checkpoint file `path`.
Entries read_entries(const fs::path& path) {
  const hdf5::Reader file(path, "checkpoint");
  std::vector<std::string> objects = {"/"};
  for (std::string& object : file.objects_below("/"))
    objects.push_back(std::move(object));
  Entries entries;
  for (const std::string& object : objects) {
    const hdf5::ObjectType type = file.object_type(object);
    if (type == hdf5::ObjectType::kDataset) {
      hdf5::Array<float> array = file.read_f32(object);
      Entry& entry = entries[object];
      entry = Entry{Entry::Kind::kFloats, std::move(array.dims), {}};
      entry.bytes.assign(reinterpret_cast<const char*>(array.values.data()),
                         array.values.size() * sizeof(float));
    } else if (type != hdf5::ObjectType::kGroup) {
      file.fail(fmt::format("{} is neither a group nor a dataset", object));
    }
    for (const std::string& name : file.attribute_names(object)) {
      const std::string key = object + "@" + name;
      switch (file.attribute_type(object, name)) {
        case hdf5::AttributeType::kInteger:
          put_int(entries, key, file.read_int_attribute(object, name));
          break;
        case hdf5::AttributeType::kString:
          put_string(entries, key, file.read_string_attribute(object, name));
          break;
        case hdf5::AttributeType::kOther:
          file.fail(fmt::format("attribute {} is neither an integer nor a string", key));
      }
    }
  }
  return entries;
}

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
  hdf5::write_file_atomic(path, "checkpoint", [&](const hdf5::Writer& file) {
    EntryWriter writer(file);
    writer.ensure_group("/params");
    for (const auto& [key, entry] : entries)
      writer.write(key, entry);
  });
}

CheckpointContents load_checkpoint(const fs::path& path) {
  return Parser(read_entries(path), path).parse();
}

int64_t checkpoint_parameter_count(const fs::path& path) {
  int64_t count = 0;
  for (const auto& [name, tensor] : load_checkpoint(path).params)
    count += tensor.numel();
  return count;
}

}  // namespace cadenza
