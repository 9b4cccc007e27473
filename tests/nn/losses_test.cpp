// Losses: values against the double reference, gradients against finite differences, masking
// and the stability of the Bernoulli loss at |logit| up to 1e4; the frame loss of token models
// against the softmax cross-entropy of the classes its one-hot targets hold.
#include "nn/losses.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "core/error.hpp"
#include "nn/reference/dense_reference.hpp"
#include "nn_test_util.hpp"

namespace cadenza {
namespace {

using testing::all_close;
using testing::finite_difference;
using testing::random_tensor;
using testing::to_double;

Tensor frame_mask(int64_t T, int64_t B) {
  Tensor mask({T, B});
  mask.fill(1.0f);
  mask[T * B - 1] = 0.0f;  // the last frame of the last sequence is padding
  mask[1] = 0.0f;
  return mask;
}

TEST(NnLosses, SigmoidBceValueAndGradient) {
  const int64_t T = 3, B = 2, K = 5;
  const Tensor logits = random_tensor({T, B, K}, 1, 4.0f);
  Tensor targets = random_tensor({T, B, K}, 2);
  for (float& v : targets.values())
    v = v > 0.0f ? 1.0f : 0.0f;
  const Tensor mask = frame_mask(T, B);
  Tensor grad;
  const LossValue value = SigmoidBceLoss().compute(logits, targets, mask, grad, 0.5f);
  EXPECT_EQ(value.scored_frames, 4);
  std::vector<double> x = to_double(logits);
  auto loss = [&] { return reference::sigmoid_bce(x, to_double(targets), to_double(mask), K); };
  EXPECT_NEAR(value.total, loss(), 1e-6 * std::abs(loss()));  // float softplus
  std::vector<double> expected = finite_difference(loss, x);
  for (double& g : expected)
    g *= 0.5;
  EXPECT_TRUE(all_close(grad, expected, 1e-6, 1e-7));
  for (int64_t k = 0; k < K; ++k)
    EXPECT_EQ(grad[1 * K + k], 0.0f);
}

TEST(NnLosses, SigmoidBceIsStableAtHugeLogits) {
  Tensor logits({1, 1, 6}), targets({1, 1, 6}), mask({1, 1}), grad;
  const float x[6] = {1e4f, -1e4f, 1e4f, -1e4f, 88.0f, -104.0f};
  const float y[6] = {1, 0, 0, 1, 1, 0};
  for (int k = 0; k < 6; ++k) {
    logits[k] = x[k];
    targets[k] = y[k];
  }
  mask[0] = 1.0f;
  const LossValue value = SigmoidBceLoss().compute(logits, targets, mask, grad);
  // Correct keys cost ~0; wrong keys cost |x|.
  EXPECT_NEAR(value.total, 2e4, 1e-6);
  EXPECT_TRUE(std::isfinite(value.total));
  const float expected_grad[6] = {0, 0, 1, -1, 0, 0};
  for (int k = 0; k < 6; ++k)
    EXPECT_NEAR(grad[k], expected_grad[k], 1e-30) << k;
}

TEST(NnLosses, SoftmaxCrossEntropyValueAndGradient) {
  const int64_t T = 3, B = 2, V = 7;
  const Tensor logits = random_tensor({T, B, V}, 3, 3.0f);
  const std::vector<int32_t> targets{0, 6, 3, 2, 5, 1};
  const Tensor mask = frame_mask(T, B);
  SoftmaxCrossEntropyLoss ce;
  Tensor grad;
  const LossValue value = ce.compute(logits, targets, mask, grad);
  EXPECT_EQ(value.scored_frames, 4);
  std::vector<double> x = to_double(logits);
  auto loss = [&] { return reference::softmax_cross_entropy(x, targets, to_double(mask), V); };
  EXPECT_NEAR(value.total, loss(), 1e-5 * std::abs(loss()));
  EXPECT_TRUE(all_close(grad, finite_difference(loss, x), 1e-5, 1e-6));
  std::vector<int32_t> bad = targets;
  bad[0] = 7;
  EXPECT_THROW(ce.compute(logits, bad, mask, grad), InputError);
  Tensor bad_mask = mask;
  bad_mask[0] = 0.5f;
  EXPECT_THROW(ce.compute(logits, targets, bad_mask, grad), InputError);
}

// A token model's frame loss reads each scored frame's class from its one-hot target row and is
// then exactly the softmax cross-entropy of those classes (which torch_crosscheck_test checks
// against torch.nn.CrossEntropyLoss); masked rows may hold anything.
TEST(NnLosses, CategoricalFrameLossIsTheCrossEntropyOfTheOneHotClasses) {
  const int64_t T = 3, B = 2, V = 7;
  const Tensor logits = random_tensor({T, B, V}, 5, 3.0f);
  const std::vector<int32_t> classes{0, 6, 3, 2, 5, 1};
  const Tensor mask = frame_mask(T, B);
  Tensor targets({T, B, V});
  for (int64_t frame = 0; frame < T * B; ++frame)
    targets[frame * V + classes[static_cast<size_t>(frame)]] = 1.0f;
  targets[1 * V + 2] = 1.0f;  // frame 1 is padding: a second 1 there is ignored
  SoftmaxCrossEntropyLoss ce;
  FrameLoss frame_loss(FrameOutput::kCategorical);
  Tensor ce_grad, frame_grad;
  const LossValue expected = ce.compute(logits, classes, mask, ce_grad, 0.25f);
  const LossValue value = frame_loss.compute(logits, targets, mask, frame_grad, 0.25f);
  EXPECT_EQ(value.total, expected.total);
  EXPECT_EQ(value.scored_frames, 4);
  EXPECT_EQ(frame_grad.dims(), ce_grad.dims());
  for (int64_t i = 0; i < ce_grad.numel(); ++i)
    EXPECT_EQ(frame_grad[i], ce_grad[i]) << i;
  for (int64_t v = 0; v < V; ++v)
    EXPECT_EQ(frame_grad[1 * V + v], 0.0f) << "masked frame, class " << v;

  Tensor two_classes = targets;
  two_classes[0 * V + 4] = 1.0f;  // frame 0 is scored
  EXPECT_THROW(frame_loss.compute(logits, two_classes, mask, frame_grad), InputError);
  Tensor no_class = targets;
  no_class[2 * V + classes[2]] = 0.0f;
  EXPECT_THROW(frame_loss.compute(logits, no_class, mask, frame_grad), InputError);
  Tensor half = targets;
  half[0 * V + classes[0]] = 0.5f;
  EXPECT_THROW(frame_loss.compute(logits, half, mask, frame_grad), InputError);
}

TEST(NnLosses, BernoulliFrameLossIsTheSigmoidBce) {
  const int64_t T = 3, B = 2, K = 5;
  const Tensor logits = random_tensor({T, B, K}, 8, 3.0f);
  Tensor targets({T, B, K});
  for (int64_t i = 0; i < targets.numel(); ++i)
    targets[i] = i % 3 == 0 ? 1.0f : 0.0f;
  const Tensor mask = frame_mask(T, B);
  SigmoidBceLoss bce;
  FrameLoss frame_loss(FrameOutput::kBernoulli);
  Tensor bce_grad, frame_grad;
  EXPECT_EQ(frame_loss.compute(logits, targets, mask, frame_grad).total,
            bce.compute(logits, targets, mask, bce_grad).total);
  for (int64_t i = 0; i < bce_grad.numel(); ++i)
    EXPECT_EQ(frame_grad[i], bce_grad[i]) << i;
}

}  // namespace
}  // namespace cadenza
