#include "config/suggest.hpp"

#include <algorithm>
#include <numeric>

namespace cadenza::config {

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> previous(b.size() + 1);
  std::vector<size_t> current(b.size() + 1);
  std::iota(previous.begin(), previous.end(), size_t{0});
  for (size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitution});
    }
    std::swap(previous, current);
  }
  return previous[b.size()];
}

std::string nearest_name(const std::string& wanted, const std::vector<std::string>& candidates) {
  // A truncated name ("model.hidden") is most likely the shortest key it begins.
  std::string shortest_extension;
  for (const auto& candidate : candidates) {
    if (wanted.size() >= 3 && candidate.size() > wanted.size() && candidate.starts_with(wanted) &&
        (shortest_extension.empty() || candidate.size() < shortest_extension.size())) {
      shortest_extension = candidate;
    }
  }
  if (!shortest_extension.empty()) return shortest_extension;
  const size_t budget = std::max<size_t>(2, wanted.size() / 2);
  std::string best;
  size_t best_distance = budget + 1;
  for (const auto& candidate : candidates) {
    const size_t distance = edit_distance(wanted, candidate);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

}  // namespace cadenza::config
