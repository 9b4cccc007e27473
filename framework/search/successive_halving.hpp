// Successive halving over epochs (Jamieson & Talwalkar 2016; the synchronous form of Li et al.
// 2018's Hyperband bracket): every trial trains to the first rung, the best 1/eta of a rung's
// trials train on to the next, and so on up to train.epochs. A trial that goes on continues its
// own run from its checkpoint (`cadenza train --pause-after-epoch`), so each rung is a pause of
// one run and a trial that reaches the top is an uninterrupted run of its config.
//
// Decisions are synchronous per rung and a pure function of the rung's results: they do not
// depend on --jobs, timing or the order in which trials finish.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "config/search.hpp"

namespace cadenza {

// The epochs at which a rung's decision is taken: min_epochs * eta^i for every i with that product
// below train_epochs, then train_epochs (the last rung). With the `none` pruner: {train_epochs}.
// Throws ConfigError when min_epochs exceeds train_epochs.
std::vector<int64_t> rung_epochs(const config::SearchSpec& spec, int64_t train_epochs);

// One trial's result at a rung: its objective there, or nullopt when it failed before reaching it.
struct RungResult {
  size_t trial = 0;  // the trial's number within its search
  std::optional<double> objective;
};

// The trials that go on from a rung: the best max(1, n / eta) of its n results (n / eta rounded
// down), best first, by the objective (smaller first when `minimize`), ties broken by the smaller
// trial number; failed trials never go on. Pure: the order of `results` does not matter.
std::vector<size_t> promoted_trials(const std::vector<RungResult>& results, int64_t eta,
                                    bool minimize);

}  // namespace cadenza
