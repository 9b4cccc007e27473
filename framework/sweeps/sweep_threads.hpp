// The threads rule of sweeps: how many cores each run attempt gets, without touching run ids.
//
// A run's id is the hash of its config, and the sweep never changes a run's config: `threads.*`
// keep the values the experiment gives them (by default compute = 0, "every core this process
// may use"). The sweep decides the thread count of an attempt through the child's CPU affinity
// instead, which core/threads.cpp reads as the cores available:
//
//   - threads.compute fixed (> 0) in the experiment: the config decides; the child may use every
//     CPU of the sweep (oversubscription with --jobs is the experiment's choice).
//   - threads.compute = 0, first start: cores / jobs CPUs (at least threads.loader + 1), so N
//     workers split the machine; compute = those CPUs minus threads.loader.
//   - threads.compute = 0, continuing an interrupted run: the core count recorded in its
//     manifest at its first start, whatever --jobs is now. oneDNN is bit-reproducible only for
//     a fixed thread count, so a run keeps its count for life and a resumed run ends
//     bit-identical to an uninterrupted one.
//
// So --jobs may change between restarts without changing any run id, and a run's thread count
// (recorded in its manifest) never changes within the run.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "config/experiment_config.hpp"

namespace cadenza {

struct CoreGrant {
  std::vector<int> cpus;  // the child's CPU affinity; empty = every CPU of the sweep
  std::string note;       // why the grant departs from cores / jobs, or ""
};

// `slot` (0 <= slot < jobs) is the worker slot the attempt occupies; `allowed` the sweep's CPUs;
// `recorded_cores` the count an interrupted run started with (0 for a fresh start).
CoreGrant grant_cores(const config::ThreadsConfig& threads, int recorded_cores, int slot, int jobs,
                      const std::vector<int>& allowed);

// The `threads.cores` an existing run directory's manifest records, or 0 when there is none.
int recorded_cores(const std::filesystem::path& run_dir);

}  // namespace cadenza
