// The `search` block of an experiment file: a budgeted hyperparameter search (docs/search.md).
//
//   "search": {
//     "space": {
//       "train.optimizer.lr":   {"loguniform": [1e-4, 1e-2]},
//       "model.hidden_size":    {"int": [64, 512], "log": true},
//       "model.dropout.output": {"uniform": [0.0, 0.7]},
//       "model.layers":         {"choice": [1, 2, 3]}
//     },
//     "trials": 32,
//     "sampler": "sobol",
//     "seed": 1,
//     "pruner": {"type": "successive_halving", "min_epochs": 2, "eta": 3},
//     "objective": "valid.nll",
//     "per_variant": true,
//     "confirm": {"seeds": 5}
//   }
//
// This file checks the block's shape: members, key paths (schema keys, as in a sweep), value
// kinds and their bounds, the sampler, the pruner, the objective (a valid-split metric only) and
// the confirmation.
// Whether the sampled values are valid for their keys is checked by resolving the bounds and every
// trial exactly like `cadenza train` with overrides (search/search_plan.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/schema.hpp"

namespace cadenza::config {

enum class SpaceKind { kUniform, kLogUniform, kInt, kChoice };

// One searched key and the distribution of its values.
struct SpaceDimension {
  std::string key;
  SpaceKind kind = SpaceKind::kUniform;
  double low = 0.0;  // uniform, loguniform, int: the inclusive bounds
  double high = 0.0;
  bool log = false;           // int: uniform in log space
  std::vector<Json> choices;  // choice: the values, as listed
};

enum class SamplerKind { kRandom, kSobol };
enum class PrunerKind { kNone, kSuccessiveHalving };

// The objective: a metric of the valid split's rows (metrics.jsonl), and its direction.
struct SearchObjective {
  std::string metric = "nll";  // nll | acc | precision | recall | f1
  bool minimize = true;        // nll is minimised, the others maximised
  std::string name() const { return "valid." + metric; }
};

struct SearchSpec {
  std::vector<SpaceDimension> space;  // sorted by key: dimension d is the d-th key in that order
  int64_t trials = 0;
  SamplerKind sampler = SamplerKind::kRandom;
  uint64_t seed = 1;  // keys the random sampler (Philox); the Sobol sequence does not depend on it
  PrunerKind pruner = PrunerKind::kNone;
  int64_t min_epochs = 1;  // successive halving: the first rung
  int64_t eta = 3;         // successive halving: 1/eta of a rung's trials go on
  SearchObjective objective;
  bool per_variant = false;  // one search per variant of the `sweep` axes
  // confirm.seeds: the best trial of each variant is trained again with this many fresh seeds
  // (search/search_confirm.hpp); 0 (no `confirm` member) confirms nothing.
  int64_t confirm_seeds = 0;
  Json declaration;  // the block as written
};

// Checks the `search` block of the experiment `origin` (a file name, for messages). Throws
// ConfigError naming the file, the member and what is valid.
SearchSpec parse_search(const Json& block, const std::string& origin);

// "loguniform [0.0001, 0.01]", "int [64, 512] log", "choice [1, 2, 3]", for listings.
std::string describe_dimension(const SpaceDimension& dimension);

}  // namespace cadenza::config
