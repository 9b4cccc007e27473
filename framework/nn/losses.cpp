#include "nn/losses.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

#include "core/error.hpp"

namespace cadenza {
namespace {

// Checks logits [T, B, C] against mask [T, B]; returns C.
int64_t check_shapes(const char* loss, const Tensor& logits, const Tensor& mask) {
  if (logits.rank() != 3 || mask.dims() != std::vector<int64_t>{logits.dim(0), logits.dim(1)}) {
    throw Error(fmt::format("{}: logits [{}] must be [T, B, C] and mask [{}] must be [T, B]", loss,
                            fmt::join(logits.dims(), ", "), fmt::join(mask.dims(), ", ")));
  }
  for (float m : mask.values()) {
    if (m != 0.0f && m != 1.0f) {
      throw InputError(fmt::format("{}: frame mask value {} is neither 0 nor 1", loss, m));
    }
  }
  return logits.dim(2);
}

}  // namespace

LossValue SigmoidBceLoss::compute(const Tensor& logits, const Tensor& targets, const Tensor& mask,
                                  Tensor& diff_logits, float grad_scale) {
  const int64_t keys = check_shapes("sigmoid_bce_loss", logits, mask);
  if (targets.dims() != logits.dims()) {
    throw Error(fmt::format("sigmoid_bce_loss: targets [{}] differ from logits [{}]",
                            fmt::join(targets.dims(), ", "), fmt::join(logits.dims(), ", ")));
  }
  softplus_.reset(logits.dims());
  diff_logits.reset(logits.dims());
  primitives_.eltwise_forward(dnnl::algorithm::eltwise_soft_relu, logits.memory(),
                              softplus_.memory());
  primitives_.eltwise_forward(dnnl::algorithm::eltwise_logistic, logits.memory(),
                              diff_logits.memory());
  LossValue value;
  for (int64_t frame = 0; frame < mask.numel(); ++frame) {
    const float* x = logits.data() + frame * keys;
    const float* y = targets.data() + frame * keys;
    const float* softplus = softplus_.data() + frame * keys;
    float* dx = diff_logits.data() + frame * keys;
    if (mask[frame] == 0.0f) {
      std::fill(dx, dx + keys, 0.0f);
      continue;
    }
    ++value.scored_frames;
    double frame_total = 0.0;
    for (int64_t k = 0; k < keys; ++k)
      frame_total += static_cast<double>(softplus[k]) - static_cast<double>(x[k]) * y[k];
    value.total += frame_total;
    for (int64_t k = 0; k < keys; ++k)
      dx[k] = grad_scale * (dx[k] - y[k]);
  }
  return value;
}

LossValue SoftmaxCrossEntropyLoss::compute(const Tensor& logits,
                                           const std::vector<int32_t>& targets, const Tensor& mask,
                                           Tensor& diff_logits, float grad_scale) {
  const int64_t classes = check_shapes("softmax_cross_entropy", logits, mask);
  if (static_cast<int64_t>(targets.size()) != mask.numel()) {
    throw Error(fmt::format("softmax_cross_entropy: {} targets for {} frames", targets.size(),
                            mask.numel()));
  }
  log_probs_.reset(logits.dims());
  primitives_.softmax_forward(logits.memory(), log_probs_.memory(), 2, true);
  diff_logits.reset(logits.dims());
  LossValue value;
  for (int64_t frame = 0; frame < mask.numel(); ++frame) {
    if (mask[frame] == 0.0f) continue;
    const int32_t target = targets[static_cast<std::size_t>(frame)];
    if (target < 0 || target >= classes) {
      throw InputError(
          fmt::format("softmax_cross_entropy: target {} at frame {} is outside "
                      "[0, {})",
                      target, frame, classes));
    }
    ++value.scored_frames;
    const float* logp = log_probs_.data() + frame * classes;
    float* dx = diff_logits.data() + frame * classes;
    value.total -= logp[target];
    for (int64_t c = 0; c < classes; ++c) {
      dx[c] = grad_scale * (std::exp(logp[c]) - (c == target ? 1.0f : 0.0f));
    }
  }
  return value;
}

int32_t one_hot_class(const float* row, int64_t classes) {
  int32_t found = -1;
  for (int64_t c = 0; c < classes; ++c) {
    if (row[c] == 0.0f) continue;
    if (row[c] != 1.0f || found >= 0) return -1;
    found = static_cast<int32_t>(c);
  }
  return found;
}

LossValue FrameLoss::compute(const Tensor& logits, const Tensor& targets, const Tensor& mask,
                             Tensor& diff_logits, float grad_scale) {
  if (output_ == FrameOutput::kBernoulli) {
    return bernoulli_.compute(logits, targets, mask, diff_logits, grad_scale);
  }
  const int64_t classes = check_shapes("frame_loss", logits, mask);
  if (targets.dims() != logits.dims()) {
    throw Error(fmt::format("frame_loss: targets [{}] differ from logits [{}]",
                            fmt::join(targets.dims(), ", "), fmt::join(logits.dims(), ", ")));
  }
  classes_.assign(static_cast<size_t>(mask.numel()), 0);
  for (int64_t frame = 0; frame < mask.numel(); ++frame) {
    if (mask[frame] == 0.0f) continue;
    const int32_t target = one_hot_class(targets.data() + frame * classes, classes);
    if (target < 0) {
      throw InputError(fmt::format(
          "frame_loss: the target of frame {} is not one-hot over {} classes (a token model "
          "needs exactly one class per scored frame)",
          frame, classes));
    }
    classes_[static_cast<size_t>(frame)] = target;
  }
  return categorical_.compute(logits, classes_, mask, diff_logits, grad_scale);
}

}  // namespace cadenza
