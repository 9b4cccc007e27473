// The thread budget: compute + loader never exceed the cores, and the counts in force are the
// ones the libraries report.
#include <gtest/gtest.h>
#include <omp.h>

#include "core/error.hpp"
#include "core/threads.hpp"

namespace cadenza {
namespace {

TEST(Threads, DefaultGivesEveryCoreToCompute) {
  const ThreadBudget budget = resolve_thread_budget(0, 0, 8);
  EXPECT_EQ(budget.compute, 8);
  EXPECT_EQ(budget.loader, 0);
  const ThreadBudget with_loader = resolve_thread_budget(0, 2, 8);
  EXPECT_EQ(with_loader.compute, 6);
  EXPECT_EQ(with_loader.loader, 2);
}

TEST(Threads, OversubscriptionIsAConfigError) {
  EXPECT_THROW(resolve_thread_budget(2, 1, 2), ConfigError);
  EXPECT_THROW(resolve_thread_budget(3, 0, 2), ConfigError);
  EXPECT_THROW(resolve_thread_budget(0, -1, 2), ConfigError);
  try {
    resolve_thread_budget(2, 2, 2);
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("threads.compute = 2 plus threads.loader = 2"),
              std::string::npos);
  }
}

TEST(Threads, ScopeAppliesCountsToOpenMPAndTbb) {
  const int cores = available_cores();
  ASSERT_GE(cores, 1);
  {
    ThreadScope scope(resolve_thread_budget(1, 0, cores));
    EXPECT_EQ(ThreadScope::openmp_threads(), 1);
    EXPECT_EQ(ThreadScope::tbb_max_parallelism(), 1);
    int seen = 0;
#pragma omp parallel
    {
#pragma omp atomic
      ++seen;
    }
    EXPECT_EQ(seen, 1);
  }
  ThreadScope all(resolve_thread_budget(0, 0, cores));
  EXPECT_EQ(ThreadScope::openmp_threads(), cores);
}

}  // namespace
}  // namespace cadenza
