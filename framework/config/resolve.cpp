#include "config/resolve.hpp"

#include <algorithm>
#include <map>

#include "core/atomic_file.hpp"
#include "core/json_text.hpp"
#include "core/sha256.hpp"

namespace cadenza::config {
namespace {

namespace fs = std::filesystem;

// Remembers which file or override set each key path, for error messages.
class Origins {
 public:
  void record(const Json& object, const std::string& prefix, const std::string& origin) {
    for (const auto& [name, value] : object.items()) {
      const std::string path = prefix.empty() ? name : prefix + "." + name;
      by_path_[path] = origin;
      if (value.is_object()) record(value, path, origin);
    }
  }
  void record_path(const std::string& path, const std::string& origin) { by_path_[path] = origin; }

  std::string lookup(const std::string& path) const {
    std::string probe = path;
    while (!probe.empty()) {
      const auto it = by_path_.find(probe);
      if (it != by_path_.end()) return it->second;
      const auto dot = probe.rfind('.');
      probe = dot == std::string::npos ? std::string() : probe.substr(0, dot);
    }
    return fallback_;
  }
  void set_fallback(std::string fallback) { fallback_ = std::move(fallback); }

 private:
  std::map<std::string, std::string> by_path_;
  std::string fallback_;
};

void merge_into(Json& target, const Json& source) {
  for (const auto& [name, value] : source.items()) {
    if (value.is_object() && target.contains(name) && target[name].is_object()) {
      merge_into(target[name], value);
    } else {
      target[name] = value;
    }
  }
}

Json parse_json_file(const fs::path& file) {
  std::error_code error;
  if (!fs::exists(file, error)) {
    if (error) {
      throw ConfigError(fmt::format("config file {}: {}", file.string(), error.message()));
    }
    throw ConfigError(fmt::format("config file {} does not exist", file.string()));
  }
  std::string text;
  try {
    text = read_file(file);
  } catch (const InputError& e) {
    throw ConfigError(e.what());
  }
  return parse_json_text(text, file.string(), JsonSource::kConfig);
}

Json load_with_extends(const fs::path& file, std::vector<fs::path>& chain, Origins& origins) {
  const fs::path canonical = fs::weakly_canonical(file);
  if (std::find(chain.begin(), chain.end(), canonical) != chain.end()) {
    throw ConfigError(fmt::format("{}: \"extends\" forms a cycle through {}",
                                  chain.front().string(), file.string()));
  }
  chain.push_back(canonical);
  Json own = parse_json_file(file);
  if (!own.is_object()) {
    throw ConfigError(fmt::format("{}: a config file must hold a JSON object", file.string()));
  }
  Json merged = Json::object();
  if (own.contains("extends")) {
    const Json extends = own["extends"];
    own.erase("extends");
    std::vector<std::string> fragments;
    if (extends.is_string()) {
      fragments.push_back(extends.get<std::string>());
    } else if (extends.is_array() && std::all_of(extends.begin(), extends.end(),
                                                 [](const Json& j) { return j.is_string(); })) {
      for (const auto& fragment : extends)
        fragments.push_back(fragment.get<std::string>());
    } else {
      throw ConfigError(
          fmt::format("{}: key 'extends' must be a file path or a list of file paths, got {}",
                      file.string(), extends.dump()));
    }
    for (const auto& fragment : fragments) {
      const fs::path fragment_path = file.parent_path() / fragment;
      std::error_code error;
      if (!fs::exists(fragment_path, error)) {
        if (error) {
          throw ConfigError(fmt::format("{}: 'extends' names {}: {}", file.string(),
                                        fragment_path.string(), error.message()));
        }
        throw ConfigError(
            fmt::format("{}: 'extends' names {}, which does not exist (paths are "
                        "relative to the file that names them)",
                        file.string(), fragment_path.string()));
      }
      merge_into(merged, load_with_extends(fragment_path, chain, origins));
    }
  }
  origins.record(own, "", file.string());
  merge_into(merged, own);
  chain.pop_back();
  return merged;
}

void apply_override(Json& root, const std::string& assignment, Origins& origins) {
  const auto equals = assignment.find('=');
  if (equals == std::string::npos || equals == 0) {
    throw ConfigError(
        fmt::format("override '{}' must have the form key.path=value (e.g. model.hidden_size=256)",
                    assignment));
  }
  try {
    (void)Json(assignment).dump();
  } catch (const Json::type_error&) {
    throw ConfigError("an override is not valid UTF-8 text; keys and values must be UTF-8");
  }
  const std::string path = assignment.substr(0, equals);
  const std::string text = assignment.substr(equals + 1);
  if (std::count(path.begin(), path.end(), '.') >= kMaxJsonDepth) {
    throw ConfigError(fmt::format("override '{}': key path '{}' is nested deeper than {} levels",
                                  assignment.substr(0, 80), path.substr(0, 80), kMaxJsonDepth));
  }
  const Json value =
      parse_json_or_none(text, fmt::format("override '{}'", assignment), JsonSource::kConfig)
          .value_or(Json(text));
  Json* node = &root;
  size_t start = 0;
  while (true) {
    const auto dot = path.find('.', start);
    const std::string part =
        path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (part.empty()) {
      throw ConfigError(
          fmt::format("override '{}': empty component in key path '{}'", assignment, path));
    }
    if (dot == std::string::npos) {
      (*node)[part] = value;
      break;
    }
    Json& child = (*node)[part];
    if (child.is_null()) child = Json::object();
    if (!child.is_object()) {
      throw ConfigError(fmt::format("override '{}': '{}' is a value, not a section", assignment,
                                    path.substr(0, dot)));
    }
    node = &child;
    start = dot + 1;
  }
  origins.record_path(path, fmt::format("command-line override '{}'", assignment));
}

std::vector<std::string> all_declared_paths() {
  std::vector<std::string> paths;
  for (const auto& key : schema_keys()) {
    paths.push_back(key.path);
    std::string section = key.path;
    for (auto dot = section.rfind('.'); dot != std::string::npos; dot = section.rfind('.')) {
      section.resize(dot);
      if (std::find(paths.begin(), paths.end(), section) == paths.end()) paths.push_back(section);
    }
  }
  return paths;
}

ResolvedConfig resolve_with_origins(const Json& merged, const Origins& origins) {
  ResolvedConfig resolved;
  JsonReader reader(merged, all_declared_paths(),
                    [&origins](const std::string& path) { return origins.lookup(path); });
  resolved.config.visit(reader);
  reader.finish();
  check_combinations(resolved.config);
  JsonWriter writer;
  resolved.config.visit(writer);
  resolved.canonical = std::move(writer.out);
  resolved.hash = sha256_hex(config_identity(resolved.canonical).dump());
  resolved.run_id = resolved.hash.substr(0, 12);
  return resolved;
}

std::string escape_pipes(const std::string& text) {
  std::string escaped;
  for (const char c : text) {
    if (c == '|') escaped += '\\';
    escaped += c;
  }
  return escaped;
}

}  // namespace

// What the hash covers: the canonical config without the keys that hold their schema default
// (and without sections left empty), and without `description`, which is prose about the run. A
// key added to the schema with a default that keeps the old behaviour, or a reworded
// description, therefore leaves every run id as it was, and studies in progress find their runs
// again under the new binary. The price: a default must never change meaning (docs/configs.md).
Json config_identity(const Json& canonical) {
  Json identity = canonical;
  identity.erase("description");
  for (const auto& key : schema_keys()) {
    std::string pointer = "/" + key.path;
    std::replace(pointer.begin(), pointer.end(), '.', '/');
    const Json::json_pointer at(pointer);
    if (!identity.contains(at) || identity.at(at) != key.default_value) continue;
    identity.at(at.parent_pointer()).erase(at.back());
    for (auto section = at.parent_pointer(); !section.empty(); section = section.parent_pointer()) {
      if (!identity.at(section).empty()) break;
      identity.at(section.parent_pointer()).erase(section.back());
    }
  }
  return identity;
}

ResolvedConfig resolve_experiment(const fs::path& file, const std::vector<std::string>& overrides) {
  Origins origins;
  origins.set_fallback(file.string());
  std::vector<fs::path> chain;
  Json merged = load_with_extends(file, chain, origins);
  for (const auto& block : kExperimentBlocks)
    merged.erase(block);
  for (const auto& assignment : overrides)
    apply_override(merged, assignment, origins);
  if (!merged.contains("name") ||
      (merged["name"].is_string() && merged["name"].get<std::string>().empty())) {
    merged["name"] = file.stem().string();
  }
  ResolvedConfig resolved = resolve_with_origins(merged, origins);
  resolved.source = file;
  return resolved;
}

Json load_experiment(const fs::path& file) {
  Origins origins;
  std::vector<fs::path> chain;
  return load_with_extends(file, chain, origins);
}

ResolvedConfig resolve_json(const Json& merged, const std::string& origin) {
  Origins origins;
  origins.set_fallback(origin);
  return resolve_with_origins(merged, origins);
}

void check_combinations(const ExperimentConfig& config) {
  const auto& model = config.model;
  if (config.name.empty()) throw ConfigError("key 'name' must not be empty");
  if (config.name.find('/') != std::string::npos || config.name == "." || config.name == "..") {
    throw ConfigError(
        fmt::format("key 'name' = \"{}\" must be a plain folder name (no '/')", config.name));
  }
  if (model.attention != AttentionKind::none && model.type != ModelType::seq2seq) {
    throw ConfigError(
        fmt::format("model.attention = \"{}\" needs model.type = \"seq2seq\" (got "
                    "\"{}\"); use model.attention = \"none\" for an lm",
                    name_of(model.attention), name_of(model.type)));
  }
  if (model.bidirectional_encoder && model.type != ModelType::seq2seq) {
    throw ConfigError("model.bidirectional_encoder = true needs model.type = \"seq2seq\"");
  }
  if (model.encoder_cell != EncoderCell::same && model.type != ModelType::seq2seq) {
    throw ConfigError(
        fmt::format("model.encoder_cell = \"{}\" needs model.type = \"seq2seq\" (an lm has no "
                    "encoder); set model.cell instead",
                    name_of(model.encoder_cell)));
  }
  const bool has_lstm = model.cell == Cell::lstm ||
                        (model.type == ModelType::seq2seq && encoder_cell_of(model) == Cell::lstm);
  if (model.forget_bias != 0.0 && !has_lstm) {
    throw ConfigError(fmt::format(
        "model.forget_bias = {}: only an LSTM has a forget gate, and model.cell is \"{}\"{}; "
        "set model.forget_bias = 0 or use an lstm cell",
        model.forget_bias, name_of(model.cell),
        model.type == ModelType::seq2seq
            ? fmt::format(" (encoder: \"{}\")", name_of(encoder_cell_of(model)))
            : std::string()));
  }
  if (model.type == ModelType::seq2seq && config.data.framing != "segments") {
    throw ConfigError(
        fmt::format("model.type = \"seq2seq\" needs data.framing = \"segments\" "
                    "(context + target), got \"{}\"",
                    config.data.framing));
  }
  if (model.type == ModelType::lm && config.data.framing == "segments") {
    throw ConfigError(
        "data.framing = \"segments\" is for seq2seq models; an lm uses full, "
        "bucket or window");
  }
}

std::vector<KeyInfo> schema_keys() {
  ExperimentConfig defaults;
  SchemaCollector collector;
  defaults.visit(collector);
  return collector.keys;
}

std::string explain_schema(bool markdown) {
  const auto keys = schema_keys();
  std::string out;
  if (markdown) {
    out += "| key | type | default | allowed | meaning |\n|---|---|---|---|---|\n";
    for (const auto& key : keys) {
      out +=
          fmt::format("| `{}` | {} | `{}` | {} | {} |\n", key.path, key.type,
                      key.default_value.dump(), escape_pipes(key.allowed), escape_pipes(key.help));
    }
    return out;
  }
  for (const auto& key : keys) {
    out += fmt::format("{}  ({}, default {}, allowed {})\n    {}\n", key.path, key.type,
                       key.default_value.dump(), key.allowed, key.help);
  }
  return out;
}

}  // namespace cadenza::config
