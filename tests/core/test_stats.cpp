// Statistics for comparing variants over seeds, against closed forms, textbook examples and
// reference values computed with mpmath 1.2.1 at 30 digits (scipy is not packaged here): the
// Student t CDF and quantile (Boost.Math's, as cadenza calls them), summaries with t intervals,
// the paired t-test (R's sleep example), and the paired bootstrap against the exact bootstrap
// distribution.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numbers>
#include <vector>

#include "core/error.hpp"
#include "core/stats.hpp"

namespace cadenza::stats {
namespace {

TEST(Stats, MeanAndSampleStd) {
  const std::vector<double> values = {1, 2, 3, 4, 5};
  EXPECT_DOUBLE_EQ(mean(values), 3.0);
  EXPECT_DOUBLE_EQ(sample_std(values), std::sqrt(2.5));
  EXPECT_TRUE(std::isnan(sample_std(std::vector<double>{4.0})));
  EXPECT_TRUE(std::isnan(mean(std::vector<double>{})));
}

TEST(Stats, MedianIsTheUpperMiddleOfTheSortedValues) {
  EXPECT_DOUBLE_EQ(median(std::vector<double>{5, 1, 4, 2, 3}), 3.0);
  EXPECT_DOUBLE_EQ(median(std::vector<double>{4, 1, 3, 2}), 3.0);
  EXPECT_DOUBLE_EQ(median(std::vector<double>{7}), 7.0);
  EXPECT_TRUE(std::isnan(median(std::vector<double>{})));
}

TEST(Stats, StudentTCdfMatchesClosedForms) {
  for (const double t : {-30.0, -2.5, -0.3, 0.0, 0.7, 1.96, 12.7}) {
    // One degree of freedom is the Cauchy distribution; two have F(t) = 1/2 + t / (2 sqrt(2 +
    // t^2)).
    EXPECT_NEAR(student_t_cdf(t, 1.0), 0.5 + std::atan(t) / std::numbers::pi, 1e-14) << t;
    EXPECT_NEAR(student_t_cdf(t, 2.0), 0.5 + t / (2.0 * std::sqrt(2.0 + t * t)), 1e-14) << t;
  }
  EXPECT_NEAR(student_t_cdf(-3.0, 5.0), 0.015049623948731287, 1e-15);
  EXPECT_NEAR(student_t_cdf(0.1, 50.0), 0.53962789317351496, 1e-14);
  EXPECT_EQ(student_t_cdf(0.0, 7.0), 0.5);
  EXPECT_THROW(student_t_cdf(1.0, 0.0), Error);
}

TEST(Stats, StudentTQuantileMatchesTablesAndMpmath) {
  // Printed tables (6 decimals), then mpmath to ~1e-12.
  EXPECT_NEAR(student_t_quantile(0.975, 4), 2.776445, 5e-7);
  EXPECT_NEAR(student_t_quantile(0.975, 1), 12.706205, 5e-7);
  EXPECT_NEAR(student_t_quantile(0.995, 10), 3.169273, 5e-7);
  EXPECT_NEAR(student_t_quantile(0.975, 30), 2.042272, 5e-7);
  const std::map<std::pair<double, double>, double> mpmath = {
      {{0.975, 4}, 2.7764451051977935},    {{0.975, 1}, 12.706204736174693},
      {{0.995, 10}, 3.1692726726169507},   {{0.975, 30}, 2.0422724563012379},
      {{0.95, 2}, 2.9199855803537242},     {{0.975, 9}, 2.262157162798205},
      {{0.975, 1000}, 1.9623390808264081}, {{0.9999, 3}, 22.203742273205002},
      {{0.6, 7}, 0.26316686135202275}};
  for (const auto& [key, expected] : mpmath) {
    EXPECT_NEAR(student_t_quantile(key.first, key.second), expected, 1e-12 * expected)
        << "p " << key.first << " dof " << key.second;
  }
  // Exact inverses for 1 and 2 degrees of freedom, both tails.
  for (const double p : {0.001, 0.05, 0.3, 0.5, 0.8, 0.975, 0.9995}) {
    EXPECT_NEAR(student_t_quantile(p, 1), std::tan(std::numbers::pi * (p - 0.5)),
                1e-12 * (1 + std::abs(std::tan(std::numbers::pi * (p - 0.5)))));
    const double a = 2 * p - 1;
    EXPECT_NEAR(student_t_quantile(p, 2), a * std::sqrt(2 / (1 - a * a)), 1e-12 * (1 + 10 * a * a));
  }
  EXPECT_DOUBLE_EQ(student_t_quantile(0.025, 4), -student_t_quantile(0.975, 4));
  EXPECT_THROW(student_t_quantile(1.0, 4), Error);
  EXPECT_THROW(student_t_quantile(0.5, -1), Error);
}

TEST(Stats, SummaryHasTheTInterval) {
  const Summary s = summarize(std::vector<double>{1, 2, 3, 4, 5});
  EXPECT_EQ(s.n, 5u);
  EXPECT_DOUBLE_EQ(s.mean, 3.0);
  EXPECT_DOUBLE_EQ(s.std, std::sqrt(2.5));
  const double half = 2.7764451051977935 * std::sqrt(2.5) / std::sqrt(5.0);  // t_{0.975,4}
  EXPECT_NEAR(s.ci.low, 3.0 - half, 1e-12);
  EXPECT_NEAR(s.ci.high, 3.0 + half, 1e-12);

  const Summary single = summarize(std::vector<double>{8.5});
  EXPECT_EQ(single.n, 1u);
  EXPECT_DOUBLE_EQ(single.mean, 8.5);
  EXPECT_TRUE(std::isnan(single.std) && std::isnan(single.ci.low) && std::isnan(single.ci.high));
  EXPECT_FALSE(single.ci.contains(8.5));

  const Summary constant = summarize(std::vector<double>{2, 2, 2});
  EXPECT_DOUBLE_EQ(constant.ci.low, 2.0);
  EXPECT_DOUBLE_EQ(constant.ci.high, 2.0);
}

// R: t.test(extra ~ group, data = sleep, paired = TRUE) -> t = -4.0621, df = 9,
// p-value = 0.002833 (Student's sleep data, Cushny & Peebles 1905); here group 2 - group 1.
TEST(Stats, PairedTTestReproducesTheSleepExample) {
  const std::vector<double> group1 = {0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0};
  const std::vector<double> group2 = {1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4};
  const PairedTest test = paired_t_test(group2, group1);
  EXPECT_EQ(test.n, 10u);
  EXPECT_NEAR(test.mean_difference, 1.58, 1e-12);
  EXPECT_NEAR(test.std_difference, 1.2299954832798732, 1e-12);
  EXPECT_NEAR(test.t, 4.062127683382037, 1e-10);
  EXPECT_DOUBLE_EQ(test.dof, 9.0);
  EXPECT_NEAR(test.p_value, 0.002832890197384269, 1e-13);  // mpmath; R prints 0.002833
  const PairedTest reversed = paired_t_test(group1, group2);
  EXPECT_NEAR(reversed.t, -test.t, 1e-12);
  EXPECT_NEAR(reversed.p_value, test.p_value, 1e-15);
}

TEST(Stats, PairedTTestDegenerateCases) {
  const PairedTest one = paired_t_test(std::vector<double>{2.0}, std::vector<double>{1.0});
  EXPECT_EQ(one.n, 1u);
  EXPECT_DOUBLE_EQ(one.mean_difference, 1.0);
  EXPECT_TRUE(std::isnan(one.p_value));
  // Every difference equal: scipy.stats.ttest_rel gives p = 0 (t = +-inf), or NaN for zero.
  const PairedTest shifted =
      paired_t_test(std::vector<double>{3, 4, 5}, std::vector<double>{2, 3, 4});
  EXPECT_EQ(shifted.p_value, 0.0);
  EXPECT_TRUE(std::isinf(shifted.t) && shifted.t > 0);
  const PairedTest same = paired_t_test(std::vector<double>{3, 4}, std::vector<double>{3, 4});
  EXPECT_TRUE(std::isnan(same.p_value));
  EXPECT_THROW(paired_t_test(std::vector<double>{1, 2}, std::vector<double>{1}), Error);
  EXPECT_THROW(paired_t_test(std::vector<double>{}, std::vector<double>{}), Error);
}

// The n^n equally likely resamples of n = 5 differences give the exact bootstrap distribution of
// the mean; its 2.5% and 97.5% quantiles are atoms 1.4 and 4.2 of a distribution whose CDF passes
// 0.025 and 0.975 more than 0.008 away from any jump, far beyond the Monte Carlo error of 1e5
// resamples (~0.0005).
TEST(Stats, PairedBootstrapMatchesTheExactBootstrapDistribution) {
  const std::vector<double> variant = {3, 1, 4, 1, 5};
  const std::vector<double> baseline(5, 0.0);
  const Interval interval = paired_bootstrap_ci(variant, baseline, 100000, 0.95, derive_key(1));
  EXPECT_NEAR(interval.low, 1.4, 1e-12);
  EXPECT_NEAR(interval.high, 4.2, 1e-12);
}

TEST(Stats, PairedBootstrapIsDeterministicAndSensible) {
  std::vector<double> variant, baseline;
  for (int i = 0; i < 30; ++i) {
    baseline.push_back(8.0 + 0.01 * (i % 7));
    variant.push_back(baseline.back() + 0.1 + 0.05 * std::sin(i * 1.3));
  }
  const Interval a = paired_bootstrap_ci(variant, baseline, 10000, 0.95, derive_key(1));
  const Interval b = paired_bootstrap_ci(variant, baseline, 10000, 0.95, derive_key(1));
  EXPECT_EQ(a.low, b.low);
  EXPECT_EQ(a.high, b.high);
  const PairedTest test = paired_t_test(variant, baseline);
  EXPECT_TRUE(a.contains(test.mean_difference));
  EXPECT_FALSE(a.contains(0.0));
  // Close to the normal-theory interval mean +- 1.96 sd / sqrt(n) for n = 30.
  const double half = 1.96 * test.std_difference / std::sqrt(30.0);
  EXPECT_NEAR(a.high - a.low, 2 * half, 0.2 * 2 * half);
  const Interval other = paired_bootstrap_ci(variant, baseline, 10000, 0.95, derive_key(2));
  EXPECT_NE(a.low, other.low);

  const Interval constant = paired_bootstrap_ci(
      std::vector<double>{2, 3, 4}, std::vector<double>{1, 2, 3}, 10000, 0.95, derive_key(1));
  EXPECT_DOUBLE_EQ(constant.low, 1.0);
  EXPECT_DOUBLE_EQ(constant.high, 1.0);
  EXPECT_THROW(paired_bootstrap_ci(variant, baseline, 0, 0.95, derive_key(1)), Error);
}

}  // namespace
}  // namespace cadenza::stats
