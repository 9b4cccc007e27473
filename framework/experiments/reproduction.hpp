// Reproductions of published numbers: experiment files under experiments/reproduce/ whose
// `reproduces` block names the published number they aim at (results/published/, see
// experiments/published.hpp):
//
//   "reproduces": {
//     "published": "bai2018/lstm",        the entry's id (<source>/<model>)
//     "dataset": "JSB_Chorales",          the entry's dataset; every judged run must train on it
//     "variant": {"model.type": "lm"},    which runs are judged: those whose sweep settings
//                                         include these (optional when the sweep has one variant)
//     "tolerance_pct": 2.0                |ours - published| / published, in percent (default 2)
//   }
//
// The experiment runs through the sweep machinery (resumable, cooperative); its judged runs'
// test nll (the mean over seeds when there are several) is then set against the published value.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "config/sweep.hpp"
#include "experiments/published.hpp"
#include "sweeps/sweep_plan.hpp"

namespace cadenza {

inline constexpr double kDefaultTolerancePct = 2.0;

struct ReproductionTarget {
  std::string published_id;
  std::string dataset;
  config::SweepPoint variant;  // empty: every run
  double tolerance_pct = kDefaultTolerancePct;
};

// Checks a `reproduces` block; `origin` names the file for messages. Throws ConfigError.
ReproductionTarget parse_reproduces(const config::Json& block, const std::string& origin);

struct Reproduction {
  std::string name;                  // the file's stem: `cadenza reproduce NAME`
  std::filesystem::path experiment;  // the file
  std::string description;           // its `description`
  ReproductionTarget target;
};

// Every *.json file of `dir`, by name. Throws ConfigError when the folder is missing or a file
// has no valid `reproduces` block.
std::vector<Reproduction> list_reproductions(const std::filesystem::path& dir);

// The reproduction called `name`. Throws ConfigError listing the valid names (and the nearest).
const Reproduction& find_reproduction(const std::vector<Reproduction>& reproductions,
                                      const std::string& name);

// Indices into plan.runs of the runs the verdict is about. Throws ConfigError when the variant
// matches no run, when it leaves runs of several variants, or when a judged run does not train
// on the target's dataset.
std::vector<size_t> judged_runs(const SweepPlan& plan, const ReproductionTarget& target,
                                const std::string& origin);

}  // namespace cadenza
