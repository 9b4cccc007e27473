// Helpers shared by the nn tests: seeded random tensors, double copies, central finite
// differences and a closeness check that reports the worst element.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/rng.hpp"
#include "core/tensor.hpp"

namespace cadenza::testing {

// Uniform in [-scale, scale), from the counter-based RNG.
inline Tensor random_tensor(std::vector<int64_t> dims, uint64_t seed, float scale = 1.0f) {
  Tensor t(std::move(dims));
  uniform_fill(derive_key(seed, 0x7e57), 0, t.data(), static_cast<uint64_t>(t.numel()));
  for (float& v : t.values())
    v = (2.0f * v - 1.0f) * scale;
  return t;
}

inline std::vector<double> to_double(const Tensor& t) {
  return std::vector<double>(t.values().begin(), t.values().end());
}

inline double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i)
    s += a[i] * b[i];
  return s;
}

// d loss / d values[i] for every i, by central differences of a double-precision function.
inline std::vector<double> finite_difference(const std::function<double()>& loss,
                                             std::vector<double>& values, double eps = 1e-6) {
  std::vector<double> grad(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double saved = values[i];
    values[i] = saved + eps;
    const double up = loss();
    values[i] = saved - eps;
    const double down = loss();
    values[i] = saved;
    grad[i] = (up - down) / (2.0 * eps);
  }
  return grad;
}

// Every |actual - expected| <= atol + rtol * |expected|; the failure names the worst element.
inline ::testing::AssertionResult all_close(const std::vector<double>& actual,
                                            const std::vector<double>& expected, double rtol,
                                            double atol) {
  if (actual.size() != expected.size()) {
    return ::testing::AssertionFailure()
           << "sizes differ: " << actual.size() << " vs " << expected.size();
  }
  double worst = 0.0;
  std::size_t worst_index = 0;
  for (std::size_t i = 0; i < actual.size(); ++i) {
    const double excess = std::abs(actual[i] - expected[i]) - (atol + rtol * std::abs(expected[i]));
    if (!(excess <= worst) || std::isnan(actual[i])) {
      worst = std::isnan(actual[i]) ? INFINITY : excess;
      worst_index = i;
    }
  }
  if (worst > 0.0) {
    return ::testing::AssertionFailure()
           << "element " << worst_index << ": actual " << actual[worst_index] << ", expected "
           << expected[worst_index] << " (rtol " << rtol << ", atol " << atol << ", "
           << actual.size() << " elements)";
  }
  return ::testing::AssertionSuccess();
}

inline ::testing::AssertionResult all_close(const Tensor& actual,
                                            const std::vector<double>& expected, double rtol,
                                            double atol) {
  return all_close(to_double(actual), expected, rtol, atol);
}

}  // namespace cadenza::testing
