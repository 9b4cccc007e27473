// The confirmation of a finished search (search.confirm.seeds = n): the best trial of each
// variant, chosen by the valid objective alone, trained again as n ordinary runs with fresh seeds,
// so that its test metrics come from seeds that took no part in the choice and `cadenza compare`
// pairs the variants seed by seed. The runs are a sweep of their own, trained by the sweep
// machinery (locks, --jobs, shards, kill-safety) in the search's folder:
//
//   <search folder>/confirm/
//     sweep.json             format "cadenza-sweep" (sweeps/sweep_plan.hpp), with the selection
//                            note that `cadenza compare` prints
//     runs/ locks/ state/ logs/
//
// The seeds are the n smallest positive integers other than the trials' seed (the experiment's
// `seed`): new to the selection, the same for every variant (so the variants pair), and fixed by
// the experiment alone.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "search/search_plan.hpp"
#include "search/search_table.hpp"
#include "sweeps/sweep_plan.hpp"

namespace cadenza {

// The `count` smallest positive integers other than `trial_seed`, ascending.
std::vector<int64_t> confirmation_seeds(int64_t trial_seed, int64_t count);

// The confirmation runs of every complete variant with a best trial in `tables` (one per variant,
// decided by decide_variant), in variant order, then seed order: the best trial's overrides (the
// variant's settings and the trial's values) and `seed` = s, resolved like `cadenza train`. Each
// run's variant is its search variant's label. Empty when spec.confirm_seeds is 0.
SweepPlan plan_confirmation(const SearchPlan& plan, const std::vector<VariantTable>& tables);

// <search folder>/confirm
std::filesystem::path confirmation_folder(const std::filesystem::path& search_folder);

// Indices into confirmation.runs of the runs that are neither done nor failed (running ones
// included), in plan order.
std::vector<size_t> unsettled_confirmations(const SweepPlan& confirmation,
                                            const std::filesystem::path& folder);

}  // namespace cadenza
