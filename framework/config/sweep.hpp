// The `sweep` block of an experiment file: axes over config keys, expanded into a list of runs.
//
//   "sweep": {
//     "grid": {"model.attention": ["none", "dot"], "seed": [1, 2, 3]},
//     "zip":  [{"model.layers": [1, 2], "model.hidden_size": [64, 128]}]
//   }
//
// Each "grid" key is an axis of its own: the runs are the cartesian product of all axes. Each
// "zip" group is one axis whose lists (of equal length) vary together, the i-th values forming
// the i-th setting. Keys are full config paths (as in overrides); values are JSON scalars; `seed`
// is an axis like any other. The example gives 2 x 3 x 2 = 12 runs.
//
// Expansion order: grid axes in key order, then zip groups in declaration order, and a grid `seed`
// axis last, so that the seeds of one variant are adjacent; the last axis varies fastest.
//
// This file checks the block's shape (members, key paths, list lengths, scalar values, no key on
// two axes, no duplicate settings). Whether each value is valid for its key is checked by
// resolving every run exactly like `cadenza train` with overrides (sweeps/sweep_plan.hpp).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "config/schema.hpp"

namespace cadenza::config {

// One axis: a grid key, or a zip group of keys varied together.
struct SweepAxis {
  std::vector<std::string> keys;
  std::vector<std::vector<Json>> settings;  // settings[i][k] = value of keys[k] in setting i
};

struct SweepSpec {
  std::vector<SweepAxis> axes;  // in expansion order (see above)
  Json declaration;             // the block as written: {"grid": {...}, "zip": [...]}

  // Product of the axes' setting counts.
  size_t run_count() const;
};

// One run of a sweep: (key, value) for every axis key, in axis order.
using SweepPoint = std::vector<std::pair<std::string, Json>>;

// Checks the `sweep` block of the experiment `origin` (a file name, for messages) against the
// schema's keys. Throws ConfigError naming the file, the member and what is valid.
SweepSpec parse_sweep(const Json& block, const std::string& origin);

// The full path of every schema key (the keys a sweep or search may vary).
std::vector<std::string> schema_leaf_paths();

// Checks that `key` may be varied by a sweep or search: a schema key (not a section), and not
// `name`. Throws ConfigError "<origin>: <where>: ..." with the nearest key for a typo.
void check_varied_key(const std::string& key, const std::string& where, const std::string& origin,
                      const std::vector<std::string>& leaves);

// Every combination of the axes' settings, the last axis varying fastest.
std::vector<SweepPoint> expand_sweep(const SweepSpec& spec);

// "key=value" with the value written as JSON, the override syntax resolve_experiment reads back
// with the value's exact type ("seed=2", "model.attention=\"dot\"").
std::string override_text(const std::string& key, const Json& value);

// "model.attention=dot" (strings unquoted), for labels and listings.
std::string setting_label(const std::string& key, const Json& value);

}  // namespace cadenza::config
