// The values of a search's trials: trial k's values are a pure function of (search seed, k), so
// restarts, --jobs, --shard and the variants of a per-variant search all see the same points.
//
//   random  coordinate d of trial k is a uniform double in [0, 1) from Philox (core/rng.hpp)
//           keyed by (search.seed, k, the key's name): adding or removing another key leaves
//           a key's values unchanged;
//   sobol   trial k is the k-th point (0-based) of Boost.Random's boost::random::sobol
//           in as many dimensions as the space has keys, read through boost::random::uniform_01;
//           dimension d is the d-th key in sorted order. It does not depend on the seed.
//
// A unit coordinate u becomes a value of its dimension:
//   uniform [a, b]     a + u (b - a)
//   loguniform [a, b]  exp(log a + u (log b - log a))
//   int [a, b]         a + floor(u (b - a + 1)); with log, floor(exp(log a + u (log(b + 1) - log
//   a)))
//                      so that each integer gets the probability of its log-width [i, i + 1)
//   choice [v0 ...]    v_floor(u n)
#pragma once

#include <cstdint>
#include <vector>

#include "config/search.hpp"
#include "config/sweep.hpp"

namespace cadenza {

// The unit-cube point of trial `trial`: [spec.space.size()] coordinates in [0, 1).
std::vector<double> unit_point(const config::SearchSpec& spec, uint64_t trial);

// The value of `dimension` at unit coordinate `u` in [0, 1) (JSON number or the listed choice).
config::Json dimension_value(const config::SpaceDimension& dimension, double u);

// Trial `trial`'s (key, value) for every key of the space, in sorted key order.
config::SweepPoint trial_values(const config::SearchSpec& spec, uint64_t trial);

}  // namespace cadenza
