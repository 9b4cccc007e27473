#include "experiments/published.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/json_text.hpp"
#include "data/locate.hpp"

namespace cadenza {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::string_view kFormat = "cadenza-published";
constexpr int kFormatVersion = 1;

const std::vector<std::string> kFileKeys = {"format", "format_version", "entries"};
const std::vector<std::string> kEntryKeys = {"id",       "citation",    "table", "model",
                                             "dataset",  "metric",      "value", "protocol",
                                             "verified", "verification"};
const std::vector<std::string> kMetrics = {"test_nll"};

bool contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// Reads one entry; `where` names the file and the entry's index for error messages.
class EntryReader {
 public:
  EntryReader(const json& entry, std::string where) : entry_(entry), where_(std::move(where)) {
    if (!entry_.is_object()) throw InputError(fmt::format("{}: must be a JSON object", where_));
    for (const auto& [key, value] : entry_.items()) {
      if (!contains(kEntryKeys, key)) {
        throw InputError(fmt::format("{}: unknown key '{}'; valid keys: {}", where_, key,
                                     fmt::join(kEntryKeys, ", ")));
      }
    }
  }

  std::string text(const std::string& key) const {
    const json& value = field(key);
    if (!value.is_string() || value.get<std::string>().empty()) {
      throw InputError(
          fmt::format("{}: '{}' must be a non-empty string, got {}", where_, key, value.dump()));
    }
    return value.get<std::string>();
  }

  std::string one_of(const std::string& key, const std::vector<std::string>& valid) const {
    const std::string value = text(key);
    if (!contains(valid, value)) {
      throw InputError(
          fmt::format("{}: '{}' is '{}'; valid: {}", where_, key, value, fmt::join(valid, ", ")));
    }
    return value;
  }

  double number(const std::string& key) const {
    const json& value = field(key);
    if (!value.is_number() || !std::isfinite(value.get<double>())) {
      throw InputError(
          fmt::format("{}: '{}' must be a finite number, got {}", where_, key, value.dump()));
    }
    return value.get<double>();
  }

  bool flag(const std::string& key) const {
    const json& value = field(key);
    if (!value.is_boolean()) {
      throw InputError(
          fmt::format("{}: '{}' must be true or false, got {}", where_, key, value.dump()));
    }
    return value.get<bool>();
  }

  const std::string& where() const { return where_; }

 private:
  const json& field(const std::string& key) const {
    if (!entry_.contains(key)) throw InputError(fmt::format("{}: missing '{}'", where_, key));
    return entry_.at(key);
  }

  const json& entry_;
  std::string where_;
};

json parse_file(const fs::path& file) {
  return parse_json_text(read_file(file), file.string(), JsonSource::kInput);
}

void check_header(const json& root, const fs::path& file) {
  if (!root.is_object()) {
    throw InputError(fmt::format(
        "{}: must be a JSON object {{\"format\": \"{}\", \"format_version\": {}, \"entries\": "
        "[...]}}",
        file.string(), kFormat, kFormatVersion));
  }
  for (const auto& [key, value] : root.items()) {
    if (!contains(kFileKeys, key)) {
      throw InputError(fmt::format("{}: unknown top-level key '{}'; valid keys: {}", file.string(),
                                   key, fmt::join(kFileKeys, ", ")));
    }
  }
  if (root.value("format", json()) != kFormat) {
    throw InputError(fmt::format("{}: 'format' must be \"{}\", got {}", file.string(), kFormat,
                                 root.value("format", json()).dump()));
  }
  if (root.value("format_version", json()) != kFormatVersion) {
    throw InputError(fmt::format("{}: 'format_version' must be {}, got {}", file.string(),
                                 kFormatVersion, root.value("format_version", json()).dump()));
  }
  if (!root.contains("entries") || !root["entries"].is_array() || root["entries"].empty()) {
    throw InputError(
        fmt::format("{}: 'entries' must be a non-empty array of published numbers", file.string()));
  }
}

PublishedNumber read_entry(const EntryReader& reader, const std::string& source) {
  PublishedNumber number;
  number.id = reader.text("id");
  if (number.id.rfind(source + "/", 0) != 0 || number.id.size() == source.size() + 1) {
    throw InputError(fmt::format("{}: 'id' is '{}'; ids in this file must be '{}/<model>'",
                                 reader.where(), number.id, source));
  }
  number.citation = reader.text("citation");
  number.table = reader.text("table");
  number.model = reader.text("model");
  number.dataset = reader.one_of("dataset", benchmark_dataset_names());
  number.metric = reader.one_of("metric", kMetrics);
  number.value = reader.number("value");
  number.protocol = reader.text("protocol");
  number.verified = reader.flag("verified");
  reader.text("verification");  // required documentation of the check; not used by code
  return number;
}

}  // namespace

std::vector<PublishedNumber> load_published(const fs::path& dir) {
  if (!fs::is_directory(dir)) {
    throw InputError(
        fmt::format("{}: no such folder; published numbers live in results/published/<source>.json",
                    dir.string()));
  }
  std::vector<fs::path> files;
  for (const auto& item : fs::directory_iterator(dir)) {
    if (item.is_regular_file() && item.path().extension() == ".json") files.push_back(item.path());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    throw InputError(fmt::format("{}: holds no published-number files (*.json)", dir.string()));
  }
  std::vector<PublishedNumber> numbers;
  std::map<std::pair<std::string, std::string>, std::string> first_seen;  // (id, dataset) -> where
  for (const fs::path& file : files) {
    const json root = parse_file(file);
    check_header(root, file);
    const std::string source = file.stem().string();
    for (std::size_t i = 0; i < root["entries"].size(); ++i) {
      const EntryReader reader(root["entries"][i],
                               fmt::format("{}: entries[{}]", file.string(), i));
      PublishedNumber number = read_entry(reader, source);
      const auto [previous, inserted] =
          first_seen.emplace(std::pair{number.id, number.dataset}, reader.where());
      if (!inserted) {
        throw InputError(fmt::format("{}: ('{}', '{}') repeats {}", reader.where(), number.id,
                                     number.dataset, previous->second));
      }
      numbers.push_back(std::move(number));
    }
  }
  return numbers;
}

const PublishedNumber& find_published(const std::vector<PublishedNumber>& numbers,
                                      std::string_view model_id, std::string_view dataset) {
  std::vector<std::string> ids;
  std::vector<std::string> datasets_of_id;
  for (const PublishedNumber& number : numbers) {
    if (number.id == model_id && number.dataset == dataset) return number;
    if (number.id == model_id) datasets_of_id.push_back(number.dataset);
    if (!contains(ids, number.id)) ids.push_back(number.id);
  }
  if (!datasets_of_id.empty()) {
    throw ConfigError(fmt::format("published model '{}' has no number on '{}'; it has: {}",
                                  model_id, dataset, fmt::join(datasets_of_id, ", ")));
  }
  throw ConfigError(fmt::format("unknown published model id '{}'; valid ids: {}", model_id,
                                fmt::join(ids, ", ")));
}

}  // namespace cadenza
