// Training losses over time-major outputs with a frame mask [T, B] (1 = scored, 0 = padding).
// Each returns the loss SUMMED over scored frames (and over keys for the Bernoulli loss) and
// writes its gradient; masked frames contribute exactly 0 loss and exactly 0 gradient.
// Sums run in double in a fixed order, so results do not depend on the thread count.
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor.hpp"
#include "nn/primitive_cache.hpp"

namespace cadenza {

// What a model's logits of one frame mean, and so how they are scored: independent keys (sigmoid
// and a Bernoulli per key, piano rolls) or one class among all (softmax and a categorical,
// melody tokens as one-hot frames).
enum class FrameOutput { kBernoulli, kCategorical };

struct LossValue {
  double total = 0.0;         // summed over scored frames (and keys)
  int64_t scored_frames = 0;  // frames with mask 1
};

// Sigmoid + binary cross-entropy from logits, for K independent keys per frame:
//   loss = sum over scored (t, b), k of softplus(x) - x y,
// with softplus and sigmoid from oneDNN's vectorised eltwise primitives (stable for any finite
// logit, |x| up to 1e4 and beyond).
class SigmoidBceLoss {
 public:
  // logits, targets [T, B, K] (targets in [0, 1]); mask [T, B] ->
  // diff_logits [T, B, K] = grad_scale * mask * (sigmoid(x) - y).
  LossValue compute(const Tensor& logits, const Tensor& targets, const Tensor& mask,
                    Tensor& diff_logits, float grad_scale = 1.0f);

 private:
  Tensor softplus_;
  PrimitiveCache primitives_;
};

// Softmax cross-entropy for token models: loss = sum over scored (t, b) of -log softmax(x)[y].
class SoftmaxCrossEntropyLoss {
 public:
  // logits [T, B, V]; targets T*B class ids in [0, V) (ignored where masked); mask [T, B] ->
  // diff_logits [T, B, V] = grad_scale * mask * (softmax(x) - onehot(y)).
  LossValue compute(const Tensor& logits, const std::vector<int32_t>& targets, const Tensor& mask,
                    Tensor& diff_logits, float grad_scale = 1.0f);

 private:
  Tensor log_probs_;
  PrimitiveCache primitives_;
};

// The class of a one-hot row [classes]: the index of its single 1, or -1 unless exactly one
// entry is 1 and every other is 0.
int32_t one_hot_class(const float* row, int64_t classes);

// The training loss of a frame output: SigmoidBceLoss for kBernoulli; for kCategorical,
// SoftmaxCrossEntropyLoss with each scored frame's class read from its one-hot target row.
class FrameLoss {
 public:
  explicit FrameLoss(FrameOutput output) : output_(output) {}

  // logits, targets [T, B, K]; mask [T, B] -> diff_logits [T, B, K], as the loss of output().
  // kCategorical: InputError naming the frame when a scored target row is not one-hot.
  LossValue compute(const Tensor& logits, const Tensor& targets, const Tensor& mask,
                    Tensor& diff_logits, float grad_scale = 1.0f);
  FrameOutput output() const { return output_; }

 private:
  FrameOutput output_;
  SigmoidBceLoss bernoulli_;
  SoftmaxCrossEntropyLoss categorical_;
  std::vector<int32_t> classes_;
};

}  // namespace cadenza
