// Frame-level metrics of a predictor (docs/metrics.md), identical for every model. For a piano
// roll (FrameOutput::kBernoulli):
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
// For melody tokens (FrameOutput::kCategorical; targets one-hot over the classes of
// data/melody.hpp):
//
//   nll                nats per scored event: -log softmax(x)[y] in double (log-sum-exp form);
//   perplexity         exp(nll);
//   acc                the share of scored events whose most probable class (the lowest on a tie)
//                      is the target's;
//   event_accuracy     acc over the events whose target is NOTE_ON or NOTE_OFF;
//   no_event_accuracy  acc over the events whose target is NO_EVENT (Magenta's split).
//
// A ratio whose denominator is 0 is reported as 0; the nll of zero scored frames is NaN.
// Batches are accumulated in double in a fixed order (frame sums in parallel, then added in frame
// order), so a result depends only on the batches and their order, never on the thread count.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>

#include "core/tensor.hpp"
#include "nn/losses.hpp"

namespace cadenza {

// The sums the metrics are ratios of. Bernoulli: the key confusion counts; categorical: the
// events predicted right, the events whose target is not NO_EVENT and those of them right.
struct FrameTotals {
  int64_t frames = 0;
  double nll_sum = 0.0;
  int64_t true_positives = 0;
  int64_t false_positives = 0;
  int64_t false_negatives = 0;
  int64_t correct = 0;
  int64_t event_frames = 0;
  int64_t event_correct = 0;
};

class FrameMetrics {
 public:
  explicit FrameMetrics(FrameOutput output = FrameOutput::kBernoulli) : output_(output) {}

  // logits, targets [T, B, P]; mask [T, B] with 1 = scored frame, 0 = padding (ignored).
  // Throws Error naming the shapes when they disagree and InputError when a mask value is neither
  // 0 nor 1, or (categorical) a scored target row is not one-hot.
  void add(const Tensor& logits, const Tensor& targets, const Tensor& mask);
  // Adds another accumulator's totals (e.g. of another shard of the split).
  void merge(const FrameMetrics& other);
  // An accumulator holding these totals (e.g. restored from a checkpoint taken mid-epoch).
  static FrameMetrics from_totals(FrameOutput output, const FrameTotals& totals);

  FrameOutput output() const { return output_; }
  const FrameTotals& totals() const { return totals_; }
  int64_t frames() const { return totals_.frames; }
  double nll_sum() const { return totals_.nll_sum; }
  int64_t true_positives() const { return totals_.true_positives; }
  int64_t false_positives() const { return totals_.false_positives; }
  int64_t false_negatives() const { return totals_.false_negatives; }

  double nll() const;
  // Bernoulli: TP / (TP + FP + FN); categorical: the share of events predicted right.
  double accuracy() const;
  double precision() const;
  double recall() const;
  double f1() const;
  double perplexity() const;
  double event_accuracy() const;
  double no_event_accuracy() const;

  // The metrics of a log row. Bernoulli: {"nll", "acc", "precision", "recall", "f1", "frames"};
  // categorical: {"nll", "perplexity", "acc", "event_accuracy", "no_event_accuracy", "frames"}.
  nlohmann::json row() const;
  // row() and the totals: "tp", "fp", "fn" (Bernoulli) or "correct", "event_frames",
  // "event_correct" (categorical).
  nlohmann::json to_json() const;

 private:
  FrameOutput output_;
  FrameTotals totals_;
};

}  // namespace cadenza
