// The one way cadenza turns JSON text into values: configs, manifests, metrics rows, checkpoint
// attributes, published numbers. nlohmann::json's own parser is safe against deep input (it
// keeps its stack on the heap), but every recursive walk of the result is not (dump, compare,
// merge, copy), and its errors name a byte position, not a key. So the text is first read by a
// SAX pass that tracks the key path and the depth, and only text that passes it is parsed:
//   - nesting deeper than kMaxJsonDepth is refused, naming the key where it happened;
//   - a number that does not fit a double (1e400) is refused, naming the key;
//   - syntax errors name the key path they occurred under and the byte offset.
// The error type is the caller's: ConfigError for configs (exit 2), InputError for files cadenza
// or a user wrote (exit 3).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace cadenza {

// Objects and arrays nested deeper than this are refused. A cadenza config is 3 levels deep;
// the sweep and search blocks add 2 or 3.
inline constexpr int kMaxJsonDepth = 64;

enum class JsonSource {
  kConfig,  // a config file or override: ConfigError
  kInput,   // a file cadenza reads as input (manifest, metrics, checkpoint attribute): InputError
};

// Parses `text`. `origin` names the text in messages ("experiments/a.json", "override
// 'train.epochs=1e400'", "run/manifest.json line 3"). Throws ConfigError or InputError (by
// `source`) of the form "<origin>: key 'train.epochs': number overflow (1e400 does not fit a
// 64-bit float)".
nlohmann::json parse_json_text(std::string_view text, const std::string& origin, JsonSource source);

}  // namespace cadenza

namespace cadenza {

// As parse_json_text, but text that is not JSON at all gives nullopt (a command-line override
// then takes it as a plain string). JSON that cadenza refuses (too deep, a number too large)
// still throws.
std::optional<nlohmann::json> parse_json_or_none(std::string_view text, const std::string& origin,
                                                 JsonSource source);

}  // namespace cadenza
