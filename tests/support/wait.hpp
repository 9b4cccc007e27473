// Test support: wait for a sign of progress (a file, a counter) rather than for a fixed time,
// which a loaded machine or a sanitizer build can always outlast.
#pragma once

#include <chrono>
#include <thread>

namespace cadenza::testing {

// Polls `condition` every `interval` (5 ms unless said; longer for conditions that start a
// program, such as asking Slurm) for up to `limit`; returns whether it became true.
template <class Condition>
bool wait_until(Condition condition, std::chrono::milliseconds limit,
                std::chrono::milliseconds interval = std::chrono::milliseconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(interval);
  }
  return condition();
}

}  // namespace cadenza::testing
