// Runs a search (search/search_plan.hpp) with the sweep machinery: each round reads the trial
// table from the trials' files (search/search_table.hpp), writes decisions.json, and hands the
// tasks that move the search on (the undecided rungs' trials, each up to its rung's epoch) to
// sweeps/sweep_runner.hpp, which trains them as `cadenza train` workers under the runs' locks.
// Once every variant's last rung is decided, it trains the confirmation runs (search.confirm:
// each variant's best trial with fresh seeds, search/search_confirm.hpp) in <folder>/confirm/ the
// same way, and ends when they are all done or failed.
//
// Every decision is re-derived from the files each round, so a search killed at any moment
// (SIGKILL included) and restarted, run with any --jobs, or run by several processes on one folder
// (each training the trials it locks and waiting for the others'), arrives at the same table. With
// --shard i/n a process trains only its shard's trials (the plan's runs sorted by run id, every
// n-th from the i-th) and waits for the other shards' trials of each rung before it goes on, and
// for the other shards' confirmation runs before it ends.
#pragma once

#include <filesystem>
#include <vector>

#include "search/search_plan.hpp"
#include "search/search_table.hpp"
#include "sweeps/sweep_runner.hpp"

namespace cadenza {

struct SearchResult {
  std::vector<VariantTable> tables;  // the final table of every variant
  size_t attempts = 0;               // worker attempts this process started (trials and
                                     // confirmations)
  size_t rounds = 0;                 // decision rounds this process made
};

// Progress goes to stderr. SIGINT or SIGTERM stop it like a sweep (Interrupted once the workers
// have checkpointed). Throws Error when a worker cannot be started or the folder cannot be
// written.
SearchResult run_search(const SearchPlan& plan, const std::filesystem::path& folder,
                        const SweepOptions& options);

}  // namespace cadenza
