// Affine, eltwise, concat and dropout layers: forward against the double reference, every
// gradient against finite differences, accumulation, bf16 against f32.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.hpp"
#include "nn/concat.hpp"
#include "nn/dropout.hpp"
#include "nn/eltwise.hpp"
#include "nn/linear.hpp"
#include "nn/reference/dense_reference.hpp"
#include "nn_test_util.hpp"

namespace cadenza {
namespace {

using testing::all_close;
using testing::dot;
using testing::finite_difference;
using testing::random_tensor;
using testing::to_double;

TEST(NnLinear, ForwardAndGradientsMatchTheReference) {
  const int64_t T = 3, B = 2, in = 5, out = 4;
  Linear linear(in, out, true);
  linear.init(1, 2);
  const Tensor x = random_tensor({T, B, in}, 1);
  const Tensor wy = random_tensor({T, B, out}, 2);
  Tensor y, dx;
  linear.forward(x, y);
  EXPECT_EQ(y.dims(), (std::vector<int64_t>{T, B, out}));
  zero_grads(linear.parameters());
  linear.backward(x, wy, dx);

  std::vector<double> xd = to_double(x), w = to_double(linear.parameters()[0]->value),
                      b = to_double(linear.parameters()[1]->value);
  auto loss = [&] {
    return dot(reference::linear_forward(xd, w, b, T * B, in, out), to_double(wy));
  };
  EXPECT_TRUE(all_close(y, reference::linear_forward(xd, w, b, T * B, in, out), 1e-5, 1e-6));
  EXPECT_TRUE(all_close(dx, finite_difference(loss, xd), 1e-5, 1e-6));
  EXPECT_TRUE(all_close(linear.parameters()[0]->grad, finite_difference(loss, w), 1e-5, 1e-6));
  EXPECT_TRUE(all_close(linear.parameters()[1]->grad, finite_difference(loss, b), 1e-5, 1e-6));

  // A second backward adds the same gradient again.
  const auto once = to_double(linear.parameters()[0]->grad);
  linear.backward(x, wy, dx);
  std::vector<double> twice = once;
  for (double& v : twice)
    v *= 2.0;
  EXPECT_TRUE(all_close(linear.parameters()[0]->grad, twice, 1e-6, 1e-7));
  EXPECT_THROW(linear.forward(Tensor({2, 3}), y), Error);
}

TEST(NnLinear, Bf16AgreesWithF32WithinBf16Rounding) {
  if (!bf16_supported()) GTEST_FAIL() << "this CPU has no oneDNN bf16 support";
  Linear f32(32, 16, true), bf16(32, 16, true, Precision::bf16);
  f32.init(3, 1);
  bf16.init(3, 1);
  const Tensor x = random_tensor({20, 32}, 1);
  const Tensor dy = random_tensor({20, 16}, 2);
  Tensor y32, y16, dx32, dx16;
  f32.forward(x, y32);
  bf16.forward(x, y16);
  EXPECT_TRUE(all_close(y16, to_double(y32), 1e-2, 1e-2));
  zero_grads(f32.parameters());
  zero_grads(bf16.parameters());
  f32.backward(x, dy, dx32);
  bf16.backward(x, dy, dx16);
  EXPECT_TRUE(all_close(dx16, to_double(dx32), 1e-2, 1e-2));
  EXPECT_TRUE(
      all_close(bf16.parameters()[0]->grad, to_double(f32.parameters()[0]->grad), 1e-2, 5e-2));
  EXPECT_TRUE(
      all_close(bf16.parameters()[1]->grad, to_double(f32.parameters()[1]->grad), 1e-6, 1e-5));
}

TEST(NnEltwise, ForwardAndGradientsMatchTheFormulas) {
  const Tensor x = random_tensor({4, 6}, 3, 3.0f);
  const Tensor wy = random_tensor({4, 6}, 4);
  for (Activation a : {Activation::tanh, Activation::sigmoid, Activation::relu}) {
    auto f = [a](double v) {
      return a == Activation::tanh      ? std::tanh(v)
             : a == Activation::sigmoid ? 1.0 / (1.0 + std::exp(-v))
                                        : std::max(v, 0.0);
    };
    Eltwise layer(a);
    Tensor y, dx;
    layer.forward(x, y);
    layer.backward(y, wy, dx);
    std::vector<double> xd = to_double(x), expected(xd.size());
    for (std::size_t i = 0; i < xd.size(); ++i)
      expected[i] = f(xd[i]);
    EXPECT_TRUE(all_close(y, expected, 1e-6, 1e-6));
    auto loss = [&] {
      double s = 0.0;
      for (std::size_t i = 0; i < xd.size(); ++i)
        s += f(xd[i]) * wy[static_cast<int64_t>(i)];
      return s;
    };
    EXPECT_TRUE(all_close(dx, finite_difference(loss, xd), 1e-5, 1e-5));
  }
  EXPECT_EQ(parse_activation("relu", "k"), Activation::relu);
  EXPECT_THROW(parse_activation("gelu", "model.activation"), ConfigError);
}

TEST(NnConcat, JoinsAlongTheLastAxisAndSplitsTheGradient) {
  const Tensor a = random_tensor({2, 3, 2}, 1), b = random_tensor({2, 3, 4}, 2);
  Concat concat;
  Tensor y;
  concat.forward({&a, &b}, y);
  ASSERT_EQ(y.dims(), (std::vector<int64_t>{2, 3, 6}));
  for (int64_t r = 0; r < 6; ++r) {
    for (int64_t j = 0; j < 2; ++j)
      EXPECT_EQ(y[r * 6 + j], a[r * 2 + j]);
    for (int64_t j = 0; j < 4; ++j)
      EXPECT_EQ(y[r * 6 + 2 + j], b[r * 4 + j]);
  }
  Tensor da, db;
  concat.backward(y, {2, 4}, {&da, &db});
  EXPECT_EQ(to_double(da), to_double(a));
  EXPECT_EQ(to_double(db), to_double(b));
  const Tensor wrong({3, 3, 2});
  EXPECT_THROW(concat.forward({&a, &wrong}, y), Error);
}

TEST(NnDropout, MasksAreReproducibleScaledAndGradientIsTheMask) {
  Dropout dropout(0.25f, 9);
  const Tensor x = random_tensor({64, 32}, 5);
  Tensor y1, y2, mask1, mask2, dx;
  dropout.set_step(77, 3);
  dropout.forward(x, y1, mask1);
  dropout.set_step(77, 3);
  dropout.forward(x, y2, mask2);
  EXPECT_EQ(to_double(y1), to_double(y2));
  int64_t dropped = 0;
  for (float m : mask1.values()) {
    EXPECT_TRUE(m == 0.0f || m == 1.0f / 0.75f);
    dropped += m == 0.0f;
  }
  EXPECT_NEAR(static_cast<double>(dropped) / static_cast<double>(mask1.numel()), 0.25, 0.03);
  // A second call in the same step draws a different mask; so does the next step.
  dropout.forward(x, y2, mask2);
  EXPECT_NE(to_double(mask1), to_double(mask2));
  dropout.set_step(77, 4);
  dropout.forward(x, y2, mask2);
  EXPECT_NE(to_double(mask1), to_double(mask2));
  const Tensor dy = random_tensor({64, 32}, 6);
  dropout.backward(dy, mask1, dx);
  for (int64_t i = 0; i < dx.numel(); ++i)
    EXPECT_EQ(dx[i], dy[i] * mask1[i]);
  dropout.set_training(false);
  dropout.forward(x, y2, mask2);
  EXPECT_EQ(to_double(y2), to_double(x));
  EXPECT_THROW(Dropout(1.0f, 0), ConfigError);
}

}  // namespace
}  // namespace cadenza
