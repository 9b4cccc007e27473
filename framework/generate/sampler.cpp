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

}  // namespace cadenza
