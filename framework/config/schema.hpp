// The config schema: every key is declared exactly once, in the `visit` function of the struct
// that holds it (framework/config/experiment_config.hpp), with its type, default (the member's
// initial value), allowed values or range, and a help line. Visitors walk those declarations to
// read JSON into the typed structs with validation, to write the resolved config back out, and to
// list the schema for `cadenza config --explain` and the key table of docs/configs.md.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <type_traits>
#include <vector>

#include "config/enums.hpp"
#include "core/error.hpp"

namespace cadenza::config {

using Json = nlohmann::json;

// Inclusive integer range.
struct IntRange {
  int64_t min = std::numeric_limits<int64_t>::min();
  int64_t max = std::numeric_limits<int64_t>::max();
};

// Inclusive floating-point range.
struct FloatRange {
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
};

// A closed set of string values; an empty set accepts any string.
struct Choices {
  std::vector<std::string> values;
};

// The names of the enum E (config/enums.hpp) as the closed set of its key.
template <class E>
Choices choices_of() {
  const auto list = names(E{});
  return Choices{std::vector<std::string>(list.begin(), list.end())};
}

// One declared key, as listed by `config --explain`.
struct KeyInfo {
  std::string path;     // "model.hidden_size"
  std::string type;     // "int", "float", "bool", "string"
  Json default_value;   // the member's initial value
  std::string allowed;  // "[1, 4096]", "lm | seq2seq", "any string"
  std::string help;
};

std::string describe(const IntRange& range);
std::string describe(const FloatRange& range);
std::string describe(const Choices& choices);

// Where a value came from, for error messages: a file name or "command-line override".
// `origin_of(path)` returns the origin of the nearest recorded ancestor of `path`.
using OriginLookup = std::function<std::string(const std::string& path)>;

// Lists every key with its default. Use: `Struct s; SchemaCollector c; s.visit(c);`
class SchemaCollector {
 public:
  std::vector<KeyInfo> keys;

  void key(const char* name, int64_t& value, IntRange range, const char* help);
  void key(const char* name, int& value, IntRange range, const char* help);
  void key(const char* name, double& value, FloatRange range, const char* help);
  void key(const char* name, bool& value, const char* help);
  void key(const char* name, std::string& value, Choices choices, const char* help);
  template <class E>
  requires std::is_enum_v<E>
  void key(const char* name, E& value, const char* help) {
    std::string text(name_of(value));
    key(name, text, choices_of<E>(), help);
  }
  template <class Section>
  void section(const char* name, Section& value, const char* /*help*/) {
    prefix_.push_back(name);
    value.visit(*this);
    prefix_.pop_back();
  }

 private:
  std::string path_of(const char* name) const;
  std::vector<std::string> prefix_;
};

// Reads a JSON object into a struct. Every declared key missing from the JSON keeps its default;
// a present key must have the declared type and lie in range; any key that is not declared is
// rejected with its full path and the nearest declared key.
class JsonReader {
 public:
  JsonReader(const Json& root, std::vector<std::string> all_paths, OriginLookup origin);

  void key(const char* name, int64_t& value, IntRange range, const char* help);
  void key(const char* name, int& value, IntRange range, const char* help);
  void key(const char* name, double& value, FloatRange range, const char* help);
  void key(const char* name, bool& value, const char* help);
  void key(const char* name, std::string& value, Choices choices, const char* help);
  // An enum key reads like a string key with its names as the choices (same errors), then holds
  // the value that the name spells.
  template <class E>
  requires std::is_enum_v<E>
  void key(const char* name, E& value, const char* help) {
    std::string text(name_of(value));
    key(name, text, choices_of<E>(), help);
    const auto list = names(value);
    value = static_cast<E>(std::find(list.begin(), list.end(), text) - list.begin());
  }
  template <class Section>
  void section(const char* name, Section& value, const char* /*help*/) {
    const Json* child = find(name);
    if (child == nullptr) return;
    if (!child->is_object()) fail_type(name, *child, "an object");
    stack_.push_back({child, path_of(name), {}});
    value.visit(*this);
    finish_object();
    stack_.pop_back();
    stack_.back().declared.push_back(name);
  }

  // Rejects undeclared keys at the top level; call after visiting the root struct.
  void finish();

 private:
  struct Frame {
    const Json* object;
    std::string path;
    std::vector<std::string> declared;
  };
  const Json* find(const char* name);
  std::string path_of(const char* name) const;
  [[noreturn]] void fail_type(const char* name, const Json& value, const std::string& expected);
  void finish_object();

  std::vector<Frame> stack_;
  std::vector<std::string> all_paths_;
  OriginLookup origin_;
};

// Writes every declared key of a struct (the fully resolved config) as JSON.
class JsonWriter {
 public:
  Json out = Json::object();

  void key(const char* name, int64_t& value, IntRange, const char*) { at()[name] = value; }
  void key(const char* name, int& value, IntRange, const char*) { at()[name] = value; }
  void key(const char* name, double& value, FloatRange, const char*) { at()[name] = value; }
  void key(const char* name, bool& value, const char*) { at()[name] = value; }
  void key(const char* name, std::string& value, Choices, const char*) { at()[name] = value; }
  template <class E>
  requires std::is_enum_v<E>
  void key(const char* name, E& value, const char*) { at()[name] = std::string(name_of(value)); }
  template <class Section>
  void section(const char* name, Section& value, const char* /*help*/) {
    at()[name] = Json::object();
    stack_.push_back(&at()[name]);
    value.visit(*this);
    stack_.pop_back();
  }

 private:
  Json& at() { return stack_.empty() ? out : *stack_.back(); }
  std::vector<Json*> stack_;
};

}  // namespace cadenza::config
