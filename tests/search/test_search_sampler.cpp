// The search's samplers: values within bounds, log scales, the Sobol points equal to Boost's
// sequence, trial k a pure function of (seed, k), and a key's random values independent of the
// other keys of the space.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/random/sobol.hpp>
#include <boost/random/uniform_01.hpp>
#include <cmath>

#include "config/search.hpp"
#include "search/search_sampler.hpp"

namespace cadenza {
namespace {

config::SearchSpec spec_of(const std::string& sampler, const config::Json& space,
                           uint64_t seed = 1) {
  return config::parse_search(
      {{"space", space}, {"trials", 64}, {"sampler", sampler}, {"seed", seed}}, "test.json");
}

const config::Json kSpace = {
    {"train.optimizer.lr", {{"loguniform", {1e-4, 1e-2}}}},
    {"model.hidden_size", {{"int", {64, 512}}, {"log", true}}},
    {"model.dropout.output", {{"uniform", {0.0, 0.7}}}},
    {"model.layers", {{"choice", {1, 2, 3}}}},
};

TEST(SearchSampler, EveryValueLiesWithinItsBounds) {
  for (const char* sampler : {"random", "sobol"}) {
    const auto spec = spec_of(sampler, kSpace);
    for (uint64_t k = 0; k < 512; ++k) {
      for (const auto& [key, value] : trial_values(spec, k)) {
        if (key == "train.optimizer.lr") {
          EXPECT_GE(value.get<double>(), 1e-4);
          EXPECT_LE(value.get<double>(), 1e-2);
        } else if (key == "model.hidden_size") {
          ASSERT_TRUE(value.is_number_integer());
          EXPECT_GE(value.get<int64_t>(), 64);
          EXPECT_LE(value.get<int64_t>(), 512);
        } else if (key == "model.dropout.output") {
          EXPECT_GE(value.get<double>(), 0.0);
          EXPECT_LT(value.get<double>(), 0.7);
        } else {
          EXPECT_TRUE(value == 1 || value == 2 || value == 3) << value;
        }
      }
    }
  }
}

TEST(SearchSampler, UnitCoordinatesMapLinearlyOrOnALogScale) {
  const auto spec = spec_of("random", kSpace);
  const auto dimension = [&](const std::string& key) {
    for (const auto& d : spec.space)
      if (d.key == key) return d;
    return config::SpaceDimension{};
  };
  const auto lr = dimension("train.optimizer.lr");
  // exp(log 1e-4) rounds a few ulps above 1e-4; the clamp keeps every value inside the bounds.
  EXPECT_NEAR(dimension_value(lr, 0.0).get<double>(), 1e-4, 1e-18);
  EXPECT_GE(dimension_value(lr, 0.0).get<double>(), 1e-4);
  EXPECT_LE(dimension_value(lr, 1.0).get<double>(), 1e-2);
  EXPECT_NEAR(dimension_value(lr, 0.5).get<double>(), 1e-3, 1e-15);  // the geometric middle
  EXPECT_NEAR(dimension_value(lr, 0.25).get<double>(), std::pow(10.0, -3.5), 1e-15);
  const auto dropout = dimension("model.dropout.output");
  EXPECT_DOUBLE_EQ(dimension_value(dropout, 0.5).get<double>(), 0.35);
  const auto hidden = dimension("model.hidden_size");
  EXPECT_EQ(dimension_value(hidden, 0.0), 64);
  EXPECT_EQ(dimension_value(hidden, 0.999999999), 512);
  // Log scale: the middle of the unit interval is the geometric middle of [64, 513).
  EXPECT_EQ(dimension_value(hidden, 0.5), static_cast<int64_t>(std::sqrt(64.0 * 513.0)));
  const auto layers = dimension("model.layers");
  EXPECT_EQ(dimension_value(layers, 0.0), 1);
  EXPECT_EQ(dimension_value(layers, 0.34), 2);
  EXPECT_EQ(dimension_value(layers, 0.99), 3);
  // Over many random trials, a log-uniform value falls below the geometric middle half the time.
  size_t below = 0;
  const size_t count = 4000;
  for (uint64_t k = 0; k < count; ++k) {
    const auto values = trial_values(spec, k);
    for (const auto& [key, value] : values)
      if (key == "train.optimizer.lr" && value.get<double>() < 1e-3) ++below;
  }
  EXPECT_NEAR(static_cast<double>(below) / count, 0.5, 0.04);
}

TEST(SearchSampler, SobolPointsAreBoostsSequence) {
  const auto spec = spec_of("sobol", kSpace);
  ASSERT_EQ(spec.space.size(), 4u);
  boost::random::sobol sobol(4);
  boost::random::uniform_01<double> unit;
  for (uint64_t k = 0; k < 100; ++k) {
    const auto point = unit_point(spec, k);
    ASSERT_EQ(point.size(), 4u);
    for (size_t d = 0; d < 4; ++d)
      EXPECT_EQ(point[d], unit(sobol)) << "trial " << k << " dimension " << d;
  }
  // The documented start of Boost's sequence (it skips the origin): 0.5, then 0.75 / 0.25.
  const auto two = spec_of("sobol", {{"model.dropout.input", {{"uniform", {0.0, 0.5}}}},
                                     {"model.dropout.output", {{"uniform", {0.0, 0.5}}}}});
  EXPECT_EQ(unit_point(two, 0), (std::vector<double>{0.5, 0.5}));
  EXPECT_EQ(unit_point(two, 1), (std::vector<double>{0.75, 0.25}));
  EXPECT_EQ(unit_point(two, 2), (std::vector<double>{0.25, 0.75}));
}

TEST(SearchSampler, TrialValuesArePureFunctionsOfSeedAndTrial) {
  for (const char* sampler : {"random", "sobol"}) {
    const auto spec = spec_of(sampler, kSpace, 3);
    // Any order of asking gives the same points.
    const auto late = trial_values(spec, 41);
    for (uint64_t k = 0; k < 41; ++k)
      trial_values(spec, k);
    EXPECT_EQ(trial_values(spec, 41), late) << sampler;
    EXPECT_NE(trial_values(spec, 40), late) << sampler;
  }
  // The random sampler depends on the seed; Sobol does not.
  EXPECT_NE(trial_values(spec_of("random", kSpace, 3), 5),
            trial_values(spec_of("random", kSpace, 4), 5));
  EXPECT_EQ(trial_values(spec_of("sobol", kSpace, 3), 5),
            trial_values(spec_of("sobol", kSpace, 4), 5));
}

TEST(SearchSampler, ARandomKeysValuesDoNotDependOnTheOtherKeys) {
  config::Json smaller = kSpace;
  smaller.erase("model.layers");
  smaller.erase("model.dropout.output");
  const auto full = spec_of("random", kSpace, 9);
  const auto part = spec_of("random", smaller, 9);
  for (uint64_t k = 0; k < 20; ++k) {
    const auto all = trial_values(full, k);
    for (const auto& entry : trial_values(part, k)) {
      EXPECT_NE(std::find(all.begin(), all.end(), entry), all.end())
          << entry.first << " trial " << k;
    }
  }
}

}  // namespace
}  // namespace cadenza
