// The plan of a search: its variants (the settings of the experiment's `sweep` axes, or one "base"
// variant), each variant's trials (the sampled values, search/search_sampler.hpp) and rungs
// (search/successive_halving.hpp), every trial resolved and validated exactly as
// `cadenza train EXPERIMENT key=value ...` would resolve it. The trials form a SweepPlan, so the
// sweep machinery (sweeps/sweep_runner.hpp) trains them in the search's folder:
//
//   <searches dir>/<name>/
//     search.json             this plan (format "cadenza-search", version 1), written atomically
//     decisions.json          the trial table and the decisions of every rung so far
//                             (search/search_table.hpp), written atomically
//     runs/ locks/ state/ logs/   as in a sweep folder (sweeps/sweep_plan.hpp)
//
// With per_variant, trial k of every variant has the same sampled values (common random numbers:
// the variants' searches are paired trial by trial).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/search.hpp"
#include "sweeps/sweep_plan.hpp"

namespace cadenza {

struct SearchTrial {
  size_t variant = 0;         // index into SearchPlan::variants
  int64_t number = 0;         // k, 0-based within its variant: the sampler's trial index
  config::SweepPoint values;  // the sampled (key, value) of every space key, sorted by key
  size_t run = 0;             // index into SearchPlan::runs.runs
};

struct SearchVariant {
  std::string label;            // the sweep axes' settings, or "base"
  config::SweepPoint settings;  // the sweep axes' (key, value), empty for "base"
  std::vector<int64_t> rungs;   // epochs of the rungs; the last is the variant's train.epochs
  std::vector<size_t> trials;   // indices into SearchPlan::trials, by trial number
};

struct SearchPlan {
  config::SearchSpec spec;
  SweepPlan runs;  // one run per trial of every variant; runs.axes is the `search` block
  std::vector<SearchVariant> variants;
  std::vector<SearchTrial> trials;

  const PlannedRun& run_of(const SearchTrial& trial) const { return runs.runs[trial.run]; }
};

// Reads and validates the search of `experiment`: the block (config/search.hpp, which checks every
// bound and choice against the schema), the sweep axes that make its variants (with per_variant; a
// `seed` axis is refused), then every trial of every variant, resolved like `cadenza train`.
// Throws ConfigError naming the file and, for a value the schema rejects, the bound or the trial
// (its number, variant and values) and the key.
SearchPlan plan_search(const std::filesystem::path& experiment);

// "model.hidden_size=93, train.optimizer.lr=0.0012" for listings.
std::string values_label(const config::SweepPoint& values);

// <searches_dir>/<name>
std::filesystem::path search_folder(const SearchPlan& plan,
                                    const std::filesystem::path& searches_dir);

// Writes <folder>/search.json atomically.
void write_search_document(const SearchPlan& plan, const std::filesystem::path& folder);

}  // namespace cadenza
