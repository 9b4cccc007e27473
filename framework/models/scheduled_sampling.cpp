#include "models/scheduled_sampling.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/rng.hpp"

namespace cadenza {
namespace {

// Purpose tag of the scheduled-sampling draws, distinct from the dropout tags.
constexpr uint64_t kScheduledSamplingTag = 0x5353;

// The class of softmax(logits [classes]) that the uniform u in [0, 1) falls in, by the inverse
// of the cumulative distribution (in double, classes in id order; the last class takes any
// rounding remainder).
int64_t sample_class(const float* logits, int64_t classes, float u) {
  const double top = *std::max_element(logits, logits + classes);
  double total = 0.0;
  for (int64_t c = 0; c < classes; ++c)
    total += std::exp(static_cast<double>(logits[c]) - top);
  double cumulative = 0.0;
  const double threshold = static_cast<double>(u) * total;
  for (int64_t c = 0; c + 1 < classes; ++c) {
    cumulative += std::exp(static_cast<double>(logits[c]) - top);
    if (threshold < cumulative) return c;
  }
  return classes - 1;
}

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
  // One uniform per (row, sequence) for the choice, then one per key for the sample (the first of
  // them picks the class of a categorical output).
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
      if (output_ == FrameOutput::kCategorical) {
        std::fill(frame, frame + keys, 0.0f);
        frame[sample_class(x, keys, u[1])] = 1.0f;
        continue;
      }
      for (int64_t k = 0; k < keys; ++k) {
        const float on = 1.0f / (1.0f + std::exp(-x[k]));
        frame[k] = u[1 + k] < on ? 1.0f : 0.0f;
      }
    }
  }
}

}  // namespace cadenza
