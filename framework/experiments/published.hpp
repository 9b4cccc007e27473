// Published numbers to compare against: results/published/<source>.json, one file per paper.
//
//   {"format": "cadenza-published", "format_version": 1, "entries": [
//     {"id": "bai2018/lstm",            <file stem>/<model>; with dataset, unique over all files
//      "citation": "authors. title. venue, year.",
//      "table": "where in the paper",   "model": "LSTM",
//      "dataset": "JSB_Chorales",       JSB_Chorales | Nottingham | MuseData | Piano_midi
//      "metric": "test_nll",            nats per frame (docs/metrics.md)
//      "value": 8.45,
//      "protocol": "how the paper trained and scored",
//      "verified": true,                checked against the source, not recalled
//      "verification": "how it was checked, or why not"}]}
//
// Every key is required; unknown keys are errors.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace cadenza {

struct PublishedNumber {
  std::string id;
  std::string citation;
  std::string table;
  std::string model;
  std::string dataset;
  std::string metric;
  double value;
  std::string protocol;
  bool verified;
};

// Every entry of every *.json file in `dir`, files in name order. Throws InputError naming the
// file and the bad field (and what is valid) when the folder is missing or empty, a file is not
// JSON, a key is missing, unknown or of the wrong type, or an (id, dataset) pair repeats.
std::vector<PublishedNumber> load_published(const std::filesystem::path& dir);

// The entry of `model_id` on `dataset`. Throws ConfigError listing the valid ids (or, for a
// known id, the datasets it has numbers for).
const PublishedNumber& find_published(const std::vector<PublishedNumber>& numbers,
                                      std::string_view model_id, std::string_view dataset);

}  // namespace cadenza
