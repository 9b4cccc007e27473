// From an experiment file to a validated, typed, hashed config:
//   1. read the JSON file; follow its "extends" fragments (paths relative to the including file,
//      merged in order, the including file's own keys last);
//   2. apply command-line overrides "key.path=value" (value parsed as JSON, else taken as a
//      string);
//   3. read the result into ExperimentConfig against the schema (unknown keys, wrong types and
//      out-of-range values are ConfigErrors naming the key, its origin and what is allowed);
//   4. check combinations of keys;
//   5. write the resolved config as canonical JSON (every key, sorted) and hash its keys that
//      differ from their defaults: the hash identifies the run.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "config/experiment_config.hpp"

namespace cadenza::config {

struct ResolvedConfig {
  ExperimentConfig config;
  Json canonical;      // every declared key with its resolved value
  std::string hash;    // sha256 of canonical without its default-valued keys, dumped compactly
  std::string run_id;  // first 12 hex digits of the hash
  std::filesystem::path source;
};

// Top-level blocks of an experiment file that describe a family of runs rather than one run:
// "sweep" (axes, config/sweep.hpp), "search" (a hyperparameter search, config/search.hpp) and
// "reproduces" (the published number it targets). They are never part of a run's config or hash;
// resolve_experiment sets them aside.
inline const std::vector<std::string> kExperimentBlocks = {"sweep", "search", "reproduces"};

// What the run id hashes: `canonical` without `description` and without the keys that hold their
// schema default (and the sections that leaves empty). Two configs of one run have the same
// identity even when one was written by a binary that lacked keys added since with defaults.
Json config_identity(const Json& canonical);

ResolvedConfig resolve_experiment(const std::filesystem::path& file,
                                  const std::vector<std::string>& overrides);

// The experiment file merged with its "extends" fragments (step 1 only): it still holds the
// experiment blocks above. Throws ConfigError like resolve_experiment.
Json load_experiment(const std::filesystem::path& file);

// Steps 3-5 on an already merged JSON object; `origin` names where values came from.
ResolvedConfig resolve_json(const Json& merged, const std::string& origin);

// Cross-key rules (e.g. attention needs a seq2seq model). Throws ConfigError.
void check_combinations(const ExperimentConfig& config);

// Every declared key, in declaration order.
std::vector<KeyInfo> schema_keys();

// The schema as an aligned text listing or as a Markdown table (for docs/configs.md,
// scripts/update_config_docs.sh).
std::string explain_schema(bool markdown);

}  // namespace cadenza::config
