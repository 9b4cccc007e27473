// Frame-level metrics of a piano-roll predictor (docs/metrics.md), identical for every model:
//
//   nll        nats per scored frame: the Bernoulli negative log-likelihood of the targets under
//              sigmoid(logits), summed over keys and scored frames, divided by the number of
//              scored frames. Per key, from the logit x and target y, in double:
//              max(x, 0) - x y + log(1 + exp(-|x|))  (the softplus form, stable for any x).
//              The training loss (nn/losses.hpp, SigmoidBceLoss) computes the same quantity in
//              f32 on oneDNN's soft_relu for speed; the metric does not, because f32's absolute
//              error (~1e-6 near 0) exceeds the precision reported here.
//   acc        TP / (TP + FP + FN) (Bay et al. 2009) over all scored frames and keys, with a key
//              predicted on when sigmoid(x) >= 0.5, i.e. x >= 0, and on in the target when y >=
//              0.5.
//   precision  TP / (TP + FP);  recall  TP / (TP + FN);  f1  2 TP / (2 TP + FP + FN).
//
// A ratio whose denominator is 0 is reported as 0; the nll of zero scored frames is NaN.
// Batches are accumulated in double in a fixed order (frame sums in parallel, then added in frame
// order), so a result depends only on the batches and their order, never on the thread count.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>

#include "core/tensor.hpp"

namespace cadenza {

class FrameMetrics {
 public:
  // logits, targets [T, B, P]; mask [T, B] with 1 = scored frame, 0 = padding (ignored).
  // Throws Error naming the shapes when they disagree and InputError when a mask value is neither
  // 0 nor 1.
  void add(const Tensor& logits, const Tensor& targets, const Tensor& mask);
  // Adds another accumulator's totals (e.g. of another shard of the split).
  void merge(const FrameMetrics& other);
  // An accumulator holding these totals (e.g. restored from a checkpoint taken mid-epoch).
  static FrameMetrics from_totals(int64_t frames, double nll_sum, int64_t true_positives,
                                  int64_t false_positives, int64_t false_negatives);

  int64_t frames() const { return frames_; }
  double nll_sum() const { return nll_sum_; }
  int64_t true_positives() const { return true_positives_; }
  int64_t false_positives() const { return false_positives_; }
  int64_t false_negatives() const { return false_negatives_; }

  double nll() const;
  double accuracy() const;
  double precision() const;
  double recall() const;
  double f1() const;

  // {"nll", "acc", "precision", "recall", "f1", "frames", "tp", "fp", "fn"}.
  nlohmann::json to_json() const;

 private:
  int64_t frames_ = 0;
  double nll_sum_ = 0.0;
  int64_t true_positives_ = 0;
  int64_t false_positives_ = 0;
  int64_t false_negatives_ = 0;
};

}  // namespace cadenza
