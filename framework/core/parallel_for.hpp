// parallel_for: body(i) for i in [0, n) on the OpenMP threads (schedule(static), so each thread's
// share depends only on n and the thread count), or on the calling thread alone unless
// `in_parallel` (callers pass a size threshold below which a region costs more than it saves).
//
// The region also orders itself with two atomics: the calling thread releases before the region
// and every thread acquires on entering it; every thread releases on leaving it and the caller
// acquires after. OpenMP guarantees that order already (the fork and the closing barrier); the
// atomics make it visible to ThreadSanitizer, which cannot see libgomp's futex-based fork and
// barriers (libgomp is not instrumented) and otherwise reports every access before a region
// against an access in it, and every access in a region against one after it, as a data race
// (scripts/test.sh --sanitize thread, tests/sanitizers/tsan.supp). They cost two atomic operations
// per thread and region.
#pragma once

#include <atomic>
#include <cstdint>

namespace cadenza {

template <class Body>
void parallel_for(int64_t n, bool in_parallel, const Body& body) {
  std::atomic<int> fork{0};
  std::atomic<int> join{0};
  fork.store(1, std::memory_order_release);
#pragma omp parallel if (in_parallel)
  {
    (void)fork.load(std::memory_order_acquire);
#pragma omp for schedule(static)
    for (int64_t i = 0; i < n; ++i)
      body(i);
    join.fetch_add(1, std::memory_order_release);
  }
  (void)join.load(std::memory_order_acquire);
}

}  // namespace cadenza
