// Comparing the variants of a sweep over seeds (the `cadenza compare` computation; report.hpp
// renders it).
//
// Variants. A variant is the set of values of the config keys that differ across the runs,
// leaving out the keys that never define a variant: seed, data.dataset (columns), threads.*,
// data.root (where the data lives) and description (free text). Variants appear in the order of
// their first run (sweep.json order, or the order of the paths given).
//
// Baseline. --baseline KEY=VALUE (repeatable) picks the one variant whose KEY has VALUE (parsed as
// JSON when it parses, else taken as a string, like config overrides); by default the first
// variant is the baseline.
//
// Statistics (stats.hpp), per variant, dataset and metric, over the completed runs' test rows
// (metrics of the best-valid checkpoint): n, mean, sample std, 95% t interval. Each other variant
// is paired with the baseline on the seeds both completed: the mean difference (variant -
// baseline), the two-sided paired t-test p-value and a 95% percentile bootstrap interval
// (kBootstrapResamples resamples, Philox key derive_key(kBootstrapSeed)). A difference is
// significant when p < 0.05 and the bootstrap interval excludes 0.
//
// Music. When runs hold generated-music statistics (run_collection.hpp), each distance becomes one
// more metric, "music.<name>" (e.g. music.pitch_class_kl, lower is better), with the same
// summaries and paired tests.
//
// Runs that are not completed, have no test row, or repeat a (variant, dataset, seed) already
// seen are kept in `excluded` with the reason.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/stats.hpp"
#include "experiments/run_collection.hpp"

namespace cadenza {

inline constexpr int kBootstrapResamples = 10000;
inline constexpr uint64_t kBootstrapSeed = 1;
inline constexpr double kSignificanceLevel = 0.05;
inline constexpr std::string_view kMusicMetricPrefix = "music.";

// The test metrics tabulated when none are asked for: of piano-roll runs, and of melody token runs
// (when every compared run is one).
inline const std::vector<std::string> kDefaultMetrics = {"nll", "acc"};
inline const std::vector<std::string> kDefaultTokenMetrics = {
    "nll", "perplexity", "acc", "event_accuracy", "no_event_accuracy"};

struct CompareOptions {
  std::vector<std::string> baseline;  // "KEY=VALUE" each
  std::vector<std::string> metrics;   // empty: kDefaultMetrics or kDefaultTokenMetrics
};

struct Variant {
  std::string label;  // "model.type=seq2seq, model.attention=general", or "all runs"
  std::vector<std::pair<std::string, nlohmann::json>> settings;  // varying key -> value
};

// Valid nll of one epoch over the seeds that reached it.
struct CurvePoint {
  int64_t epoch = 0;
  std::size_t n = 0;
  double mean = 0.0;
  double min = 0.0;
  double max = 0.0;
};

// One variant on one dataset.
struct VariantResult {
  std::size_t runs = 0;                                     // completed runs (one per seed)
  std::map<std::string, std::map<int64_t, double>> values;  // metric -> seed -> test value
  std::map<std::string, stats::Summary> metrics;            // metric -> summary over seeds
  stats::Summary best_epoch;
  stats::Summary train_seconds;
  std::optional<int64_t> parameters_min;  // over the runs whose checkpoint was read
  std::optional<int64_t> parameters_max;
  std::vector<CurvePoint> curve;
};

struct PairedDifference {
  std::size_t variant = 0;
  std::string dataset;
  std::string metric;
  std::vector<int64_t> seeds;  // paired seeds, ascending
  stats::PairedTest test;
  stats::Interval bootstrap{0.0, 0.0};  // NaN bounds for fewer than 2 pairs
  bool significant = false;
};

struct ExcludedRun {
  RunRecord run;
  std::string variant;  // label, or "" when the run has no config
  std::string reason;
};

struct Comparison {
  std::vector<std::string> varying_keys;
  std::vector<Variant> variants;
  std::size_t baseline = 0;
  std::string baseline_rule;          // how the baseline was chosen, for the report
  std::vector<std::string> datasets;  // in order of first appearance
  std::vector<std::string> metrics;
  std::map<std::pair<std::size_t, std::string>, VariantResult> results;  // (variant, dataset)
  std::vector<PairedDifference> differences;  // variant order, then dataset, then metric
  std::size_t runs_used = 0;
  std::vector<ExcludedRun> excluded;
  // The distinct non-empty RunRecord::selection notes of the runs, in order of first appearance:
  // how a program chose their configs (a search's confirmation runs), for the report's header.
  std::vector<std::string> selections;
  // Whether some compared run scored melody tokens (its test row has event_accuracy), so that the
  // report states the categorical protocol too.
  bool token_runs = false;
};

// Lower values are better for nll (and any metric whose name contains "nll" or "loss"),
// perplexity and the music distances.
bool lower_is_better(const std::string& metric);

// Throws UsageError naming the valid keys, values or variants when --baseline does not pick exactly
// one variant, and when a metric is not in any completed run's test row (listing those present).
Comparison compare_runs(const std::vector<RunRecord>& runs, const CompareOptions& options);

// The index in comparison.variants of the variant `run` belongs to (by its values of the varying
// keys), or nullopt when none has them (a run without a config, or not among the compared runs).
std::optional<std::size_t> variant_index_of(const Comparison& comparison, const RunRecord& run);

}  // namespace cadenza
