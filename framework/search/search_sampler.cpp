#include "search/search_sampler.hpp"

#include <algorithm>
#include <boost/random/sobol.hpp>
#include <boost/random/uniform_01.hpp>
#include <cmath>

#include "core/rng.hpp"
#include "core/sha256.hpp"

namespace cadenza {
namespace {

// The Philox purpose tag of the random sampler, so that its stream never meets the training
// streams keyed by the same number.
constexpr uint64_t kSearchSamplerTag = 0x5EA5C4;

// A key's name as a 64-bit tag: the first 16 hex digits of its SHA-256.
uint64_t key_tag(const std::string& key) {
  return std::stoull(sha256_hex(key).substr(0, 16), nullptr, 16);
}

}  // namespace

std::vector<double> unit_point(const config::SearchSpec& spec, uint64_t trial) {
  std::vector<double> point;
  if (spec.sampler == config::SamplerKind::kRandom) {
    for (const auto& dimension : spec.space) {
      CounterRng rng(derive_key(spec.seed, kSearchSamplerTag, trial, key_tag(dimension.key)));
      point.push_back(rng.uniform_double());
    }
    return point;
  }
  boost::random::sobol sobol(spec.space.size());
  sobol.discard(trial * spec.space.size());
  boost::random::uniform_01<double> unit;
  for (size_t d = 0; d < spec.space.size(); ++d)
    point.push_back(unit(sobol));
  return point;
}

config::Json dimension_value(const config::SpaceDimension& dimension, double u) {
  const double low = dimension.low;
  const double high = dimension.high;
  switch (dimension.kind) {
    case config::SpaceKind::kUniform:
      return low + u * (high - low);
    case config::SpaceKind::kLogUniform:
      // Clamped: exp(log a) may round just below a, outside the key's schema range.
      return std::clamp(std::exp(std::log(low) + u * (std::log(high) - std::log(low))), low, high);
    case config::SpaceKind::kInt: {
      const double scaled =
          dimension.log ? std::exp(std::log(low) + u * (std::log(high + 1.0) - std::log(low)))
                        : low + u * (high - low + 1.0);
      return static_cast<int64_t>(std::clamp(std::floor(scaled), low, high));
    }
    case config::SpaceKind::kChoice: {
      const auto count = dimension.choices.size();
      const auto index = static_cast<size_t>(std::floor(u * static_cast<double>(count)));
      return dimension.choices[std::min(index, count - 1)];
    }
  }
  return nullptr;
}

config::SweepPoint trial_values(const config::SearchSpec& spec, uint64_t trial) {
  const std::vector<double> point = unit_point(spec, trial);
  config::SweepPoint values;
  for (size_t d = 0; d < spec.space.size(); ++d)
    values.emplace_back(spec.space[d].key, dimension_value(spec.space[d], point[d]));
  return values;
}

}  // namespace cadenza
