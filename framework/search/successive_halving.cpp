#include "search/successive_halving.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

#include "core/error.hpp"

namespace cadenza {

std::vector<int64_t> rung_epochs(const config::SearchSpec& spec, int64_t train_epochs) {
  if (spec.pruner == config::PrunerKind::kNone) return {train_epochs};
  if (spec.min_epochs > train_epochs) {
    throw ConfigError(fmt::format(
        "search.pruner.min_epochs = {} exceeds train.epochs = {}: the first rung must come "
        "before the end of training",
        spec.min_epochs, train_epochs));
  }
  std::vector<int64_t> rungs;
  for (int64_t epoch = spec.min_epochs; epoch < train_epochs; epoch *= spec.eta)
    rungs.push_back(epoch);
  rungs.push_back(train_epochs);
  return rungs;
}

std::vector<size_t> promoted_trials(const std::vector<RungResult>& results, int64_t eta,
                                    bool minimize) {
  std::vector<RungResult> ranked;
  std::copy_if(results.begin(), results.end(), std::back_inserter(ranked),
               [](const RungResult& result) { return result.objective.has_value(); });
  std::sort(ranked.begin(), ranked.end(), [minimize](const RungResult& a, const RungResult& b) {
    if (*a.objective != *b.objective) {
      return minimize ? *a.objective < *b.objective : *a.objective > *b.objective;
    }
    return a.trial < b.trial;
  });
  const size_t keep =
      std::min(ranked.size(), std::max<size_t>(1, results.size() / static_cast<size_t>(eta)));
  std::vector<size_t> promoted;
  for (size_t i = 0; i < keep; ++i)
    promoted.push_back(ranked[i].trial);
  return promoted;
}

}  // namespace cadenza
