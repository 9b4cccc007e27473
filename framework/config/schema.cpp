#include "config/schema.hpp"

#include <algorithm>
#include <cmath>

#include "config/suggest.hpp"

namespace cadenza::config {
namespace {

std::string json_type_name(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return "a boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return "an integer";
    case Json::value_t::number_float:
      return "a number";
    case Json::value_t::string:
      return "a string";
    case Json::value_t::array:
      return "an array";
    case Json::value_t::object:
      return "an object";
    default:
      return "an unsupported value";
  }
}

std::string format_number(double value) {
  return fmt::format("{:g}", value);
}

}  // namespace

std::string describe(const IntRange& range) {
  const bool has_min = range.min != std::numeric_limits<int64_t>::min();
  const bool has_max = range.max != std::numeric_limits<int64_t>::max();
  if (has_min && has_max) return fmt::format("[{}, {}]", range.min, range.max);
  if (has_min) return fmt::format(">= {}", range.min);
  if (has_max) return fmt::format("<= {}", range.max);
  return "any integer";
}

std::string describe(const FloatRange& range) {
  const bool has_min = std::isfinite(range.min);
  const bool has_max = std::isfinite(range.max);
  if (has_min && has_max) {
    return fmt::format("[{}, {}]", format_number(range.min), format_number(range.max));
  }
  if (has_min) return fmt::format(">= {}", format_number(range.min));
  if (has_max) return fmt::format("<= {}", format_number(range.max));
  return "any number";
}

std::string describe(const Choices& choices) {
  if (choices.values.empty()) return "any string";
  return fmt::format("{}", fmt::join(choices.values, " | "));
}

// --- SchemaCollector ----------------------------------------------------------------------------

std::string SchemaCollector::path_of(const char* name) const {
  std::string path;
  for (const auto& part : prefix_)
    path += part + ".";
  return path + name;
}

void SchemaCollector::key(const char* name, int64_t& value, IntRange range, const char* help) {
  keys.push_back({path_of(name), "int", value, describe(range), help});
}

void SchemaCollector::key(const char* name, int& value, IntRange range, const char* help) {
  keys.push_back({path_of(name), "int", value, describe(range), help});
}

void SchemaCollector::key(const char* name, double& value, FloatRange range, const char* help) {
  keys.push_back({path_of(name), "float", value, describe(range), help});
}

void SchemaCollector::key(const char* name, bool& value, const char* help) {
  keys.push_back({path_of(name), "bool", value, "true | false", help});
}

void SchemaCollector::key(const char* name, std::string& value, Choices choices, const char* help) {
  keys.push_back({path_of(name), "string", value, describe(choices), help});
}

// --- JsonReader ---------------------------------------------------------------------------------

JsonReader::JsonReader(const Json& root, std::vector<std::string> all_paths, OriginLookup origin)
    : all_paths_(std::move(all_paths)), origin_(std::move(origin)) {
  if (!root.is_object()) {
    throw ConfigError(fmt::format("{}: the config must be a JSON object, got {}", origin_(""),
                                  json_type_name(root)));
  }
  stack_.push_back({&root, "", {}});
}

std::string JsonReader::path_of(const char* name) const {
  const auto& prefix = stack_.back().path;
  return prefix.empty() ? std::string(name) : prefix + "." + name;
}

const Json* JsonReader::find(const char* name) {
  const Json& object = *stack_.back().object;
  const auto it = object.find(name);
  return it == object.end() ? nullptr : &*it;
}

void JsonReader::fail_type(const char* name, const Json& value, const std::string& expected) {
  const std::string path = path_of(name);
  throw ConfigError(fmt::format("{}: key '{}' must be {}, got {} ({})", origin_(path), path,
                                expected, value.dump(), json_type_name(value)));
}

void JsonReader::key(const char* name, int64_t& value, IntRange range, const char* help) {
  const Json* json = find(name);
  stack_.back().declared.push_back(name);
  if (json == nullptr) return;
  const std::string allowed = describe(range);
  const std::string expected = "an integer " + (allowed.front() == '[' ? "in " + allowed : allowed);
  if (!json->is_number_integer()) fail_type(name, *json, expected);
  if (json->is_number_unsigned() && json->get<uint64_t>() > uint64_t(INT64_MAX)) {
    fail_type(name, *json, expected);
  }
  const auto parsed = json->get<int64_t>();
  if (parsed < range.min || parsed > range.max) fail_type(name, *json, expected);
  value = parsed;
  (void)help;
}

void JsonReader::key(const char* name, int& value, IntRange range, const char* help) {
  int64_t wide = value;
  range.min = std::max<int64_t>(range.min, std::numeric_limits<int>::min());
  range.max = std::min<int64_t>(range.max, std::numeric_limits<int>::max());
  key(name, wide, range, help);
  value = static_cast<int>(wide);
}

void JsonReader::key(const char* name, double& value, FloatRange range, const char* help) {
  const Json* json = find(name);
  stack_.back().declared.push_back(name);
  if (json == nullptr) return;
  const std::string allowed = describe(range);
  const std::string expected = "a number " + (allowed.front() == '[' ? "in " + allowed : allowed);
  if (!json->is_number()) fail_type(name, *json, expected);
  const auto parsed = json->get<double>();
  if (!(parsed >= range.min && parsed <= range.max)) fail_type(name, *json, expected);
  value = parsed;
  (void)help;
}

void JsonReader::key(const char* name, bool& value, const char* help) {
  const Json* json = find(name);
  stack_.back().declared.push_back(name);
  if (json == nullptr) return;
  if (!json->is_boolean()) fail_type(name, *json, "true or false");
  value = json->get<bool>();
  (void)help;
}

void JsonReader::key(const char* name, std::string& value, Choices choices, const char* help) {
  const Json* json = find(name);
  stack_.back().declared.push_back(name);
  if (json == nullptr) return;
  const std::string expected =
      choices.values.empty() ? std::string("a string") : "one of " + describe(choices);
  if (!json->is_string()) fail_type(name, *json, expected);
  const auto parsed = json->get<std::string>();
  if (!choices.values.empty() &&
      std::find(choices.values.begin(), choices.values.end(), parsed) == choices.values.end()) {
    const std::string path = path_of(name);
    const std::string guess = nearest_name(parsed, choices.values);
    throw ConfigError(fmt::format(
        "{}: key '{}' = \"{}\" is not allowed; valid: {}{}", origin_(path), path, parsed,
        describe(choices), guess.empty() ? "" : fmt::format(" (did you mean \"{}\"?)", guess)));
  }
  value = parsed;
  (void)help;
}

void JsonReader::finish_object() {
  const Frame& frame = stack_.back();
  for (const auto& [name, child] : frame.object->items()) {
    if (std::find(frame.declared.begin(), frame.declared.end(), name) != frame.declared.end()) {
      continue;
    }
    const std::string path = frame.path.empty() ? name : frame.path + "." + name;
    std::string guess = nearest_name(path, all_paths_);
    if (guess.empty()) {
      std::vector<std::string> leaf_names;
      for (const auto& candidate : all_paths_) {
        if (candidate.starts_with(frame.path)) leaf_names.push_back(candidate);
      }
      guess = nearest_name(path, leaf_names);
    }
    throw ConfigError(fmt::format(
        "{}: unknown key '{}'{}", origin_(path), path,
        guess.empty() ? std::string("; run `cadenza config --explain` for every valid key")
                      : fmt::format(" (did you mean '{}'?)", guess)));
  }
}

void JsonReader::finish() {
  finish_object();
}

}  // namespace cadenza::config
