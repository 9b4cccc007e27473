#include "core/json_text.hpp"

#include <fmt/format.h>

#include <optional>
#include <vector>

#include "core/error.hpp"

namespace cadenza {
namespace {

using Json = nlohmann::json;

// A SAX pass that builds nothing: it follows the key path and the depth, and keeps the first
// problem as a message. Returning false from any event stops the parse.
class PathTracker {
 public:
  bool null() { return value(); }
  bool boolean(bool) { return value(); }
  bool number_integer(Json::number_integer_t) { return value(); }
  bool number_unsigned(Json::number_unsigned_t) { return value(); }
  bool number_float(Json::number_float_t, const Json::string_t&) { return value(); }
  bool string(Json::string_t&) { return value(); }
  bool binary(Json::binary_t&) { return value(); }
  bool start_object(std::size_t) { return open(false); }
  bool start_array(std::size_t) { return open(true); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }
  bool key(Json::string_t& name) {
    frames_.back().label = name;
    return true;
  }
  bool parse_error(std::size_t /*position*/, const std::string& token,
                   const nlohmann::detail::exception& error) {
    syntax_error_ = error.id != 406;
    if (!syntax_error_) {
      problem_ = fmt::format("{}number overflow ({} does not fit a 64-bit float)", where(), token);
    } else {
      problem_ = fmt::format("{}invalid JSON: {}", where(), strip_library_prefix(error.what()));
    }
    return false;
  }

  const std::string& problem() const { return problem_; }
  // The text is not JSON at all (as opposed to JSON cadenza refuses: too deep, too large).
  bool syntax_error() const { return syntax_error_; }

 private:
  struct Frame {
    bool array = false;
    int64_t next_index = 0;
    std::string label;  // the current key, or "[i]" of the current element
  };

  // A value starts: in an array it is the next element.
  void enter_value() {
    if (frames_.empty() || !frames_.back().array) return;
    Frame& frame = frames_.back();
    frame.label = fmt::format("[{}]", frame.next_index++);
  }
  bool value() {
    enter_value();
    return true;
  }
  bool open(bool array) {
    enter_value();
    if (static_cast<int>(frames_.size()) >= kMaxJsonDepth) {
      problem_ = fmt::format(
          "{}nested deeper than {} levels (objects and arrays), which no cadenza "
          "file needs",
          where(), kMaxJsonDepth);
      return false;
    }
    frames_.push_back({array, 0, ""});
    return true;
  }
  bool close() {
    frames_.pop_back();
    return true;
  }

  // "key 'train.epochs': ", or "" at the top level.
  std::string where() const {
    std::string path;
    for (const Frame& frame : frames_) {
      if (frame.label.empty()) break;
      if (!path.empty() && !frame.label.starts_with("[")) path += '.';
      path += frame.label;
    }
    return path.empty() ? std::string() : fmt::format("key '{}': ", path);
  }

  // nlohmann's messages start with the exception's name, "[json.exception.parse_error.101] ";
  // the rest ("parse error at line 1, column 5: syntax error ...") is for the user.
  static std::string strip_library_prefix(const std::string& message) {
    const auto end = message.find("] ");
    return message.starts_with("[json.exception.") && end != std::string::npos
               ? message.substr(end + 2)
               : message;
  }

  std::vector<Frame> frames_;
  std::string problem_;
  bool syntax_error_ = false;
};

[[noreturn]] void fail(JsonSource source, const std::string& message) {
  if (source == JsonSource::kConfig) throw ConfigError(message);
  throw InputError(message);
}

// The parsed value, or nullopt with the tracker holding the problem.
std::optional<Json> parse_tracked(std::string_view text, PathTracker& tracker) {
  if (!Json::sax_parse(text, &tracker)) return std::nullopt;
  // The SAX pass accepted the text, so the DOM parse does too.
  return Json::parse(text);
}

}  // namespace

Json parse_json_text(std::string_view text, const std::string& origin, JsonSource source) {
  PathTracker tracker;
  std::optional<Json> parsed = parse_tracked(text, tracker);
  if (!parsed) fail(source, fmt::format("{}: {}", origin, tracker.problem()));
  return std::move(*parsed);
}

std::optional<Json> parse_json_or_none(std::string_view text, const std::string& origin,
                                       JsonSource source) {
  PathTracker tracker;
  std::optional<Json> parsed = parse_tracked(text, tracker);
  if (!parsed && !tracker.syntax_error()) {
    fail(source, fmt::format("{}: {}", origin, tracker.problem()));
  }
  return parsed;
}

}  // namespace cadenza
