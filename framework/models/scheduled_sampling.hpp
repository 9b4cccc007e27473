// Scheduled sampling (Bengio et al. 2015, "Scheduled Sampling for Sequence Prediction with
// Recurrent Neural Networks") in its two-pass form (Mihaylova & Martins 2019, "Scheduled Sampling
// for Transformers"): a first pass, teacher-forced and without gradients, predicts every decoder
// input frame; each input frame after the first is then replaced, with probability p, by a frame
// sampled key by key from that prediction, and the second pass trains on the mixed inputs. No
// gradient flows through the sampling (as in Bengio et al.). Unlike the sequential original, a
// replaced frame is sampled from a prediction conditioned on the true frames before it.
#pragma once

#include <cstdint>

#include "config/experiment_config.hpp"
#include "core/tensor.hpp"
#include "nn/losses.hpp"

namespace cadenza {

class ScheduledSampling {
 public:
  ScheduledSampling(const config::ScheduledSamplingConfig& config, FrameOutput output)
      : config_(config), output_(output) {}

  // The draws of training step `step` come from (seed, step); p ramps with `step`.
  void set_step(uint64_t seed, uint64_t step) {
    seed_ = seed;
    step_ = step;
  }
  // p at the current step: probability * min(1, step / ramp_steps).
  double probability() const;
  bool active() const { return probability() > 0.0; }

  // logits [T, B, P]: the teacher-forced predictions, row t predicting input row t + 1;
  // inputs [T, B, P] -> each row t >= 1 of each sequence replaced, with probability p, by a frame
  // drawn from logits[t - 1]: one Bernoulli(sigmoid) per key, or for a categorical output one
  // class from softmax(logits[t - 1]) as a one-hot row.
  void feed_back(const Tensor& logits, Tensor& inputs) const;

 private:
  config::ScheduledSamplingConfig config_;
  FrameOutput output_;
  uint64_t seed_ = 0;
  uint64_t step_ = 0;
};

}  // namespace cadenza
