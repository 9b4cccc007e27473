// The one place that decides and applies thread counts (docs/onednn.md, trap 8).
// oneDNN (Debian build) computes with OpenMP threads; the data loader uses oneTBB. The two pools
// must not oversubscribe the cores: compute + loader <= cores.
#pragma once

#include <tbb/global_control.h>

#include <memory>

namespace cadenza {

struct ThreadBudget {
  int cores = 1;    // logical cores available to this process (sched_getaffinity)
  int compute = 1;  // OpenMP threads for oneDNN and our own dense loops
  int loader = 0;   // oneTBB threads for the data pipeline; 0 = built inline on the training thread
};

// Logical cores this process may run on.
int available_cores();

// Resolves requested counts (compute 0 = all cores left after the loader) against the core
// count. Throws ConfigError naming threads.compute / threads.loader when compute + loader > cores.
ThreadBudget resolve_thread_budget(int requested_compute, int requested_loader, int cores);

// Applies a budget for the lifetime of the returned object: sets OpenMP's thread count and caps
// oneTBB's parallelism. The counts in force are read back from the libraries, not assumed.
class ThreadScope {
 public:
  explicit ThreadScope(const ThreadBudget& budget);
  ~ThreadScope();
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;

  const ThreadBudget& budget() const { return budget_; }
  // What the libraries report now.
  static int openmp_threads();
  static int tbb_max_parallelism();

 private:
  ThreadBudget budget_;
  std::unique_ptr<tbb::global_control> tbb_limit_;
};

}  // namespace cadenza
