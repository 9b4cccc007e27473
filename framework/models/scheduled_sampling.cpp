#include "models/scheduled_sampling.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/rng.hpp"

namespace cadenza {
namespace {

// Purpose tag of the scheduled-sampling draws, distinct from the dropout tags.
constexpr uint64_t kScheduledSamplingTag = 0x5353;

}  // namespace

double ScheduledSampling::probability() const {
  if (config_.ramp_steps <= 0) return config_.probability;
  const double ramp =
      std::min(1.0, static_cast<double>(step_) / static_cast<double>(config_.ramp_steps));
  return config_.probability * ramp;
}

void ScheduledSampling::feed_back(const Tensor& logits, Tensor& inputs) const {
  const int64_t steps = inputs.dim(0);
  const int64_t batch = inputs.dim(1);
  const int64_t keys = inputs.dim(2);
  const float p = static_cast<float>(probability());
  // One uniform per (row, sequence) for the choice, then one per key for the sample.
  const int64_t draws_per_frame = 1 + keys;
  std::vector<float> uniforms(static_cast<size_t>(steps * batch * draws_per_frame));
  uniform_fill(derive_key(seed_, kScheduledSamplingTag, step_), 0, uniforms.data(),
               uniforms.size());
  for (int64_t t = 1; t < steps; ++t) {
    for (int64_t b = 0; b < batch; ++b) {
      const float* u = uniforms.data() + (t * batch + b) * draws_per_frame;
      if (u[0] >= p) continue;
      const float* x = logits.data() + ((t - 1) * batch + b) * keys;
      float* frame = inputs.data() + (t * batch + b) * keys;
      for (int64_t k = 0; k < keys; ++k) {
        const float on = 1.0f / (1.0f + std::exp(-x[k]));
        frame[k] = u[1 + k] < on ? 1.0f : 0.0f;
      }
    }
  }
}

}  // namespace cadenza
