#include "sweeps/sweep_threads.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "runs/run_dir.hpp"

namespace cadenza {

CoreGrant grant_cores(const config::ThreadsConfig& threads, int recorded_cores, int slot, int jobs,
                      const std::vector<int>& allowed) {
  CoreGrant grant;
  const int available = static_cast<int>(allowed.size());
  if (threads.compute > 0) {
    if (jobs * (threads.compute + threads.loader) > available) {
      grant.note = fmt::format(
          "threads.compute = {} and threads.loader = {} are fixed by the experiment: {} workers "
          "oversubscribe the {} cores",
          threads.compute, threads.loader, jobs, available);
    }
    return grant;
  }
  const int per_worker = std::max(1, available / jobs);
  int wanted = std::max(per_worker, threads.loader + 1);
  if (recorded_cores > 0) {
    if (recorded_cores != wanted) {
      grant.note = fmt::format(
          "continues with the {} core(s) it started with (a run keeps its thread count; --jobs {} "
          "gives {} per worker)",
          recorded_cores, jobs, per_worker);
    }
    wanted = recorded_cores;
  }
  if (wanted > available) {
    grant.note = fmt::format(
        "needs {} cores but this sweep may use only {}; it continues with fewer threads, so it "
        "will not be bit-identical to an uninterrupted run",
        wanted, available);
    wanted = available;
  }
  const int first = slot * per_worker;
  for (int j = 0; j < wanted; ++j)
    grant.cpus.push_back(allowed[static_cast<size_t>((first + j) % available)]);
  return grant;
}

int recorded_cores(const std::filesystem::path& run_dir) {
  // Lenient: a run whose manifest cannot tell gets the default grant.
  try {
    const auto manifest = read_manifest(run_dir);
    return manifest ? manifest->at("threads").at("cores").get<int>() : 0;
  } catch (const std::exception&) {
    return 0;
  }
}

}  // namespace cadenza
