#include "core/threads.hpp"

#include <fmt/format.h>
#include <omp.h>
#include <sched.h>
#include <tbb/global_control.h>

#include <algorithm>

#include "core/error.hpp"

namespace cadenza {

int available_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1, omp_get_num_procs());
}

ThreadBudget resolve_thread_budget(int requested_compute, int requested_loader, int cores) {
  if (requested_loader < 0) {
    throw ConfigError(
        fmt::format("threads.loader = {}: must be >= 0 (0 builds batches on the "
                    "training thread)",
                    requested_loader));
  }
  if (requested_compute < 0) {
    throw ConfigError(
        fmt::format("threads.compute = {}: must be >= 0 (0 uses every core the loader leaves)",
                    requested_compute));
  }
  ThreadBudget budget;
  budget.cores = cores;
  budget.loader = requested_loader;
  budget.compute =
      requested_compute == 0 ? std::max(1, cores - requested_loader) : requested_compute;
  if (budget.compute + budget.loader > cores) {
    throw ConfigError(fmt::format(
        "threads.compute = {} plus threads.loader = {} exceeds the {} cores of this machine; "
        "valid: compute + loader <= {} (set threads.compute = 0 to take what the loader leaves)",
        budget.compute, budget.loader, cores, cores));
  }
  return budget;
}

ThreadScope::ThreadScope(const ThreadBudget& budget) : budget_(budget) {
  omp_set_num_threads(budget.compute);
  tbb_limit_ =
      std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                            static_cast<size_t>(std::max(1, budget.loader)));
}

ThreadScope::~ThreadScope() = default;

int ThreadScope::openmp_threads() {
  return omp_get_max_threads();
}

int ThreadScope::tbb_max_parallelism() {
  return static_cast<int>(
      tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism));
}

}  // namespace cadenza
