#include "core/stats.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <limits>
#include <vector>

#include "core/error.hpp"

namespace cadenza::stats {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void check_dof(double dof) {
  if (!(dof > 0.0) || std::isinf(dof)) {
    throw Error(fmt::format("Student t: degrees of freedom must be finite and > 0, got {}", dof));
  }
}

// P(T > t) for t >= 0.
double upper_tail(double t, double dof) {
  if (std::isinf(t)) return 0.0;
  return boost::math::cdf(boost::math::complement(boost::math::students_t(dof), t));
}

// Linearly interpolated quantile q of sorted values (Hyndman & Fan type 7).
double sorted_quantile(const std::vector<double>& sorted, double q) {
  const double position = q * static_cast<double>(sorted.size() - 1);
  const auto below = static_cast<std::size_t>(std::floor(position));
  const std::size_t above = std::min(below + 1, sorted.size() - 1);
  const double fraction = position - static_cast<double>(below);
  return sorted[below] + fraction * (sorted[above] - sorted[below]);
}

std::vector<double> differences(std::span<const double> variant, std::span<const double> baseline) {
  if (variant.size() != baseline.size() || variant.empty()) {
    throw Error(fmt::format(
        "paired statistics need two equally long, non-empty samples; got {} and {} values",
        variant.size(), baseline.size()));
  }
  std::vector<double> d(variant.size());
  for (std::size_t i = 0; i < d.size(); ++i)
    d[i] = variant[i] - baseline[i];
  return d;
}

}  // namespace

double mean(std::span<const double> values) {
  if (values.empty()) return kNaN;
  double sum = 0.0;
  for (const double v : values)
    sum += v;
  return sum / static_cast<double>(values.size());
}

double sample_std(std::span<const double> values) {
  if (values.size() < 2) return kNaN;
  const double m = mean(values);
  double squares = 0.0;
  for (const double v : values)
    squares += (v - m) * (v - m);
  return std::sqrt(squares / static_cast<double>(values.size() - 1));
}

double median(std::span<const double> values) {
  if (values.empty()) return kNaN;
  std::vector<double> sorted(values.begin(), values.end());
  const auto middle = sorted.begin() + static_cast<std::ptrdiff_t>(sorted.size() / 2);
  std::nth_element(sorted.begin(), middle, sorted.end());
  return *middle;
}

double student_t_cdf(double t, double dof) {
  check_dof(dof);
  if (std::isnan(t)) return kNaN;
  const double tail = upper_tail(std::abs(t), dof);
  return t > 0.0 ? 1.0 - tail : tail;
}

double student_t_quantile(double p, double dof) {
  check_dof(dof);
  if (!(p > 0.0 && p < 1.0)) {
    throw Error(fmt::format("Student t quantile: p must be in (0, 1), got {}", p));
  }
  return boost::math::quantile(boost::math::students_t(dof), p);
}

Summary summarize(std::span<const double> values, double level) {
  Summary summary;
  summary.n = values.size();
  summary.mean = mean(values);
  summary.std = sample_std(values);
  summary.ci = {kNaN, kNaN};
  if (summary.n >= 2) {
    const double half = student_t_quantile(0.5 + level / 2.0, static_cast<double>(summary.n - 1)) *
                        summary.std / std::sqrt(static_cast<double>(summary.n));
    summary.ci = {summary.mean - half, summary.mean + half};
  }
  return summary;
}

PairedTest paired_t_test(std::span<const double> variant, std::span<const double> baseline) {
  const std::vector<double> d = differences(variant, baseline);
  PairedTest test;
  test.n = d.size();
  test.mean_difference = mean(d);
  test.std_difference = sample_std(d);
  test.dof = static_cast<double>(test.n) - 1.0;
  if (test.n < 2) {
    test.t = test.p_value = kNaN;
    return test;
  }
  if (test.std_difference == 0.0) {
    const bool no_difference = test.mean_difference == 0.0;
    test.t = no_difference
                 ? kNaN
                 : std::copysign(std::numeric_limits<double>::infinity(), test.mean_difference);
    test.p_value = no_difference ? kNaN : 0.0;
    return test;
  }
  test.t = test.mean_difference / (test.std_difference / std::sqrt(static_cast<double>(test.n)));
  test.p_value = 2.0 * upper_tail(std::abs(test.t), test.dof);
  return test;
}

Interval paired_bootstrap_ci(std::span<const double> variant, std::span<const double> baseline,
                             int resamples, double level, PhiloxKey key) {
  const std::vector<double> d = differences(variant, baseline);
  if (resamples < 1) {
    throw Error(fmt::format("bootstrap: resamples must be >= 1, got {}", resamples));
  }
  CounterRng rng(key);
  std::vector<double> means(static_cast<std::size_t>(resamples));
  for (double& resample_mean : means) {
    double sum = 0.0;
    for (std::size_t i = 0; i < d.size(); ++i)
      sum += d[rng.below(d.size())];
    resample_mean = sum / static_cast<double>(d.size());
  }
  std::sort(means.begin(), means.end());
  const double alpha = 1.0 - level;
  return {sorted_quantile(means, alpha / 2.0), sorted_quantile(means, 1.0 - alpha / 2.0)};
}

}  // namespace cadenza::stats
