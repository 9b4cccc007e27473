// The verdict of a reproduction: our test nll (the mean over the judged runs' seeds, with spread)
// against the published value, the difference, and whether it lies within the tolerance:
//   relative difference = (ours - published) / published;  within <=> |relative| <= tolerance.
// A result much better than the paper's is outside the tolerance too: it means the settings
// differ, not that the number was reproduced.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "experiments/published.hpp"
#include "experiments/reproduction.hpp"
#include "core/stats.hpp"
#include "sweeps/sweep_plan.hpp"

namespace cadenza {

// One variant's test nll over its seeds.
struct VariantTestNll {
  std::string variant;
  std::vector<int64_t> seeds;
  std::vector<double> test_nll;  // per seed, in plan order
  stats::Summary summary;
  bool judged = false;
};

struct ReproductionVerdict {
  PublishedNumber published;
  std::vector<VariantTestNll> variants;  // every variant of the sweep, in plan order
  size_t judged = 0;                    // index into variants
  double difference = 0.0;              // ours (mean) - published
  double relative_pct = 0.0;            // 100 * difference / published
  double tolerance_pct = 0.0;
  bool within = false;
};

// Reads every run's test nll from its metrics.jsonl (all runs must be completed). Throws Error
// naming a run without a test row.
ReproductionVerdict judge_reproduction(const SweepPlan& plan, const std::filesystem::path& folder,
                                       const std::vector<size_t>& judged,
                                       const PublishedNumber& published, double tolerance_pct);

// The report printed by `cadenza reproduce NAME`.
std::string format_verdict(const Reproduction& reproduction, const ReproductionVerdict& verdict);

// The same as one JSON object (the last line `cadenza reproduce` prints).
nlohmann::json verdict_json(const Reproduction& reproduction, const ReproductionVerdict& verdict);

}  // namespace cadenza
