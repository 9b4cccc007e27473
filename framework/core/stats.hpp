// Statistics of a seed sweep: summaries over seeds and paired comparisons of two variants.
//
//   mean          sum / n
//   sample std    sqrt(sum (x - mean)^2 / (n - 1))                       (NaN for n < 2)
//   95% CI        mean -+ t_{0.975, n-1} * std / sqrt(n)                   (NaN for n < 2)
//   paired t      d_i = variant_i - baseline_i; t = mean(d) / (std(d) / sqrt(n)), n - 1 degrees
//                 of freedom, two-sided p = 2 P(T > |t|). When every d_i is
//                 equal the test degenerates as in scipy.stats.ttest_rel: p = 0 when the common
//                 difference is non-zero, NaN when it is zero.
//   bootstrap CI  percentile interval of the mean of d over resamples of the n pairs drawn with
//                 replacement; quantiles interpolate linearly between order statistics (type 7).
//                 Draws come from a Philox stream (core/rng.hpp), so the interval is a function of
//                 (data, resamples, key) only.
// The Student t distribution (its CDF and quantile) is Boost.Math's (libboost-math-dev).
#pragma once

#include <cstddef>
#include <span>

#include "core/rng.hpp"

namespace cadenza::stats {

struct Interval {
  double low;
  double high;
  // False when either bound is NaN.
  bool contains(double x) const { return low <= x && x <= high; }
};

double mean(std::span<const double> values);
double sample_std(std::span<const double> values);
// The upper median: the element at index n / 2 of the sorted values (NaN when empty). Timings
// (step times, bench ratios) are summarised with it.
double median(std::span<const double> values);

// P(T <= t) for Student's t with `dof` > 0 degrees of freedom.
double student_t_cdf(double t, double dof);
// The t with P(T <= t) = p, for p in (0, 1). Throws Error naming p or dof when out of range.
double student_t_quantile(double p, double dof);

struct Summary {
  std::size_t n = 0;
  double mean = 0.0;
  double std = 0.0;  // NaN for n < 2
  Interval ci;       // NaN bounds for n < 2
};
// n, mean, sample std and the `level` (e.g. 0.95) t confidence interval of the mean.
Summary summarize(std::span<const double> values, double level = 0.95);

struct PairedTest {
  std::size_t n = 0;
  double mean_difference = 0.0;  // mean(variant - baseline)
  double std_difference = 0.0;   // NaN for n < 2
  double t = 0.0;                // NaN for n < 2
  double dof = 0.0;              // n - 1
  double p_value = 0.0;          // two-sided; NaN for n < 2
};
// Paired t-test of variant[i] - baseline[i]. Throws Error when the spans differ in length or are
// empty.
PairedTest paired_t_test(std::span<const double> variant, std::span<const double> baseline);

// Percentile bootstrap `level` interval of mean(variant - baseline) from `resamples` resamples of
// the pairs. Throws Error when the spans differ in length or are empty, or resamples < 1.
Interval paired_bootstrap_ci(std::span<const double> variant, std::span<const double> baseline,
                             int resamples, double level, PhiloxKey key);

}  // namespace cadenza::stats
