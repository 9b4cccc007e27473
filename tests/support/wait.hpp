// Test support: wait for a sign of progress (a file, a counter) rather than for a fixed time,
// which a loaded machine or a sanitizer build can always outlast.
#pragma once

#include <chrono>
#include <thread>

namespace cadenza::testing {

// Polls `condition` every 5 ms for up to `limit`; returns whether it became true.
template <class Condition>
bool wait_until(Condition condition, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return condition();
}

}  // namespace cadenza::testing
