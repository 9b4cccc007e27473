// The plan of a sweep: every run an experiment's `sweep` block expands to, each resolved and
// validated exactly as `cadenza train EXPERIMENT key=value ...` would resolve it, and the
// sweep's folder:
//
//   <sweeps dir>/<name>/
//     sweep.json              this plan (format "cadenza-sweep", version 1), written atomically
//     runs/<name>/<run id>/   each run's normal run directory (runs/run_dir.hpp)
//     locks/<run id>.lock     flock(2) target held while a process trains the run
//     state/<run id>.json     the sweep's record of the run's attempts (sweeps/run_state.hpp)
//     logs/<run id>.log       stdout and stderr of every attempt, appended
//
// A run's id is its config hash, so it does not depend on the order of the axes, on --jobs or on
// --shard: a sweep restarted in any way finds its runs again.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/resolve.hpp"
#include "config/sweep.hpp"

namespace cadenza {

struct PlannedRun {
  config::ResolvedConfig resolved;
  config::SweepPoint overrides;            // every axis key with its value for this run
  std::vector<std::string> override_args;  // the same as `cadenza train` arguments: key=<json>
  std::string variant;                     // the non-seed axis settings, or "base"
  std::filesystem::path dir;               // relative to the sweep folder: runs/<name>/<run id>

  const std::string& run_id() const { return resolved.run_id; }
};

struct SweepPlan {
  std::string name;                  // the experiment's name (config key `name`)
  std::filesystem::path experiment;  // the experiment file, as given
  nlohmann::json axes;               // the `sweep` block as declared ({} when there is none)
  std::vector<PlannedRun> runs;      // in expansion order (config/sweep.hpp)
  // How the runs' configs were chosen, when a program chose them (a search's confirmation runs,
  // search/search_confirm.hpp); "" for a declared sweep. sweep.json keeps it as "selection".
  std::string selection;
};

// Expands and resolves every run of `experiment`. An experiment without a `sweep` block is a sweep
// of one run (its base config). Throws ConfigError naming the file, and for a value the schema
// rejects, the run (its settings) and the key.
SweepPlan plan_sweep(const std::filesystem::path& experiment);

// <sweeps_dir>/<plan.name>
std::filesystem::path sweep_folder(const SweepPlan& plan, const std::filesystem::path& sweeps_dir);

// The sweep.json document of a plan.
nlohmann::json sweep_document(const SweepPlan& plan);

// Writes <folder>/sweep.json atomically. Returns the run ids the sweep.json there listed before
// that are no longer in the plan (the experiment changed since), so the caller can say so.
std::vector<std::string> write_sweep_document(const SweepPlan& plan,
                                              const std::filesystem::path& folder);

// `--shard i/n`: the i-th (0-based) of n disjoint parts of a plan.
struct Shard {
  int index = 0;
  int count = 1;
};

// Parses "i/n" with 0 <= i < n. Throws UsageError saying what is valid.
Shard parse_shard(const std::string& text);

// Indices into plan.runs of the shard's runs, in plan order. The partition is deterministic and
// independent of the axes' order: runs sorted by run id, every n-th from the i-th.
std::vector<size_t> shard_runs(const SweepPlan& plan, const Shard& shard);

}  // namespace cadenza
