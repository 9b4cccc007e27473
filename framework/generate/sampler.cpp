#include "generate/sampler.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "core/error.hpp"
#include "core/rng.hpp"

namespace cadenza {
namespace {

void check_options(const SamplingOptions& options, int64_t pitches) {
  const bool limits_ok = options.max_polyphony >= 0 && options.max_polyphony <= pitches &&
                         options.min_notes >= 0 && options.min_notes <= pitches &&
                         (options.max_polyphony == 0 || options.min_notes <= options.max_polyphony);
  if (!(options.temperature > 0.0) || !std::isfinite(options.temperature) || !limits_ok) {
    throw Error(fmt::format(
        "sample_frames: temperature {} must be > 0 and max_polyphony {}, min_notes {} within "
        "0..{} with min_notes <= max_polyphony",
        options.temperature, options.max_polyphony, options.min_notes, pitches));
  }
}

}  // namespace

void sample_frames(const Tensor& logits, const SamplingOptions& options, int64_t first_sample,
                   int64_t frame, Tensor& frames) {
  const int64_t batch = logits.dim(0);
  const int64_t pitches = logits.dim(1);
  check_options(options, pitches);
  frames.reset({batch, pitches});
  std::vector<double> probability(static_cast<size_t>(pitches));
  std::vector<float> uniform(static_cast<size_t>(pitches));
  std::vector<int64_t> order(static_cast<size_t>(pitches));
  for (int64_t b = 0; b < batch; ++b) {
    const float* row = logits.data() + b * pitches;
    float* out = frames.data() + b * pitches;
    const PhiloxKey key =
        derive_key(options.seed, kSamplingTag, static_cast<uint64_t>(first_sample + b),
                   static_cast<uint64_t>(frame));
    uniform_fill(key, 0, uniform.data(), static_cast<uint64_t>(pitches));
    int64_t drawn = 0;
    for (int64_t k = 0; k < pitches; ++k) {
      probability[k] = 1.0 / (1.0 + std::exp(-static_cast<double>(row[k]) / options.temperature));
      out[k] = static_cast<double>(uniform[k]) < probability[k] ? 1.0f : 0.0f;
      drawn += out[k] != 0.0f;
    }
    const bool too_many = options.max_polyphony > 0 && drawn > options.max_polyphony;
    const bool too_few = drawn < options.min_notes;
    if (!too_many && !too_few) continue;
    // Keys by decreasing probability, the lower key first among equals.
    std::iota(order.begin(), order.end(), int64_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t c) { return probability[a] > probability[c]; });
    if (too_many) {
      int64_t kept = 0;
      for (const int64_t k : order) {
        if (out[k] == 0.0f) continue;
        if (kept < options.max_polyphony) {
          ++kept;
        } else {
          out[k] = 0.0f;
        }
      }
    } else {
      for (const int64_t k : order) {
        if (drawn == options.min_notes) break;
        if (out[k] == 0.0f) {
          out[k] = 1.0f;
          ++drawn;
        }
      }
    }
  }
}

std::vector<double> event_distribution(const float* logits, int64_t classes,
                                       const SamplingOptions& options) {
  if (!(options.temperature > 0.0) || !std::isfinite(options.temperature) || options.top_k < 0 ||
      options.top_k > classes || !(options.top_p > 0.0 && options.top_p <= 1.0)) {
    throw Error(fmt::format(
        "sample_events: temperature {} must be > 0, top_k {} within 0..{} and top_p {} in (0, 1]",
        options.temperature, options.top_k, classes, options.top_p));
  }
  std::vector<double> probability(static_cast<size_t>(classes));
  const double top = *std::max_element(logits, logits + classes);
  double total = 0.0;
  for (int64_t c = 0; c < classes; ++c) {
    probability[c] = std::exp((static_cast<double>(logits[c]) - top) / options.temperature);
    total += probability[c];
  }
  for (double& p : probability)
    p /= total;
  std::vector<int64_t> order(static_cast<size_t>(classes));
  std::iota(order.begin(), order.end(), int64_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t c) { return probability[a] > probability[c]; });
  const int64_t top_k = options.top_k > 0 ? options.top_k : classes;
  int64_t kept = 0;
  double cumulative = 0.0;
  while (kept < top_k && (kept == 0 || cumulative < options.top_p)) {
    cumulative += probability[order[kept]];
    ++kept;
  }
  std::vector<double> distribution(static_cast<size_t>(classes), 0.0);
  for (int64_t i = 0; i < kept; ++i)
    distribution[order[i]] = probability[order[i]] / cumulative;
  return distribution;
}

void sample_events(const Tensor& logits, const SamplingOptions& options, int64_t first_sample,
                   int64_t frame, Tensor& frames) {
  const int64_t batch = logits.dim(0);
  const int64_t classes = logits.dim(1);
  frames.reset({batch, classes});
  std::vector<int64_t> order(static_cast<size_t>(classes));
  for (int64_t b = 0; b < batch; ++b) {
    const std::vector<double> distribution =
        event_distribution(logits.data() + b * classes, classes, options);
    std::iota(order.begin(), order.end(), int64_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t c) { return distribution[a] > distribution[c]; });
    float uniform = 0.0f;
    uniform_fill(derive_key(options.seed, kSamplingTag, static_cast<uint64_t>(first_sample + b),
                            static_cast<uint64_t>(frame)),
                 0, &uniform, 1);
    int64_t chosen = order[0];
    double cumulative = 0.0;
    for (const int64_t c : order) {
      if (distribution[c] == 0.0) break;
      chosen = c;
      cumulative += distribution[c];
      if (static_cast<double>(uniform) < cumulative) break;
    }
    frames[b * classes + chosen] = 1.0f;
  }
}

}  // namespace cadenza
