// The oneDNN GRU against the double-precision reference: forward values, and every gradient
// against the reference's backpropagation and against finite differences of its forward; plus
// step mode, dropout, accumulation, the PyTorch state round trip and bf16.
#include "nn/gru.hpp"

#include <gtest/gtest.h>

#include <map>

#include "core/error.hpp"
#include "nn/reference/gru_reference.hpp"
#include "nn_test_util.hpp"

namespace cadenza {
namespace {

using testing::all_close;
using testing::dot;
using testing::finite_difference;
using testing::random_tensor;
using testing::to_double;

struct GruCase {
  int64_t steps, batch, input, hidden, layers;
  bool bidirectional;
};

GruOptions options_for(const GruCase& c) {
  GruOptions o;
  o.input_size = c.input;
  o.hidden_size = c.hidden;
  o.layers = c.layers;
  o.bidirectional = c.bidirectional;
  return o;
}

// The parameters of `gru` as reference weights (same PyTorch layout).
std::vector<reference::GruLayerWeights> reference_weights(Gru& gru) {
  std::vector<reference::GruLayerWeights> layers;
  const auto params = gru.parameters();
  for (std::size_t i = 0; i < params.size(); i += 4) {
    layers.push_back({to_double(params[i]->value), to_double(params[i + 1]->value),
                      to_double(params[i + 2]->value), to_double(params[i + 3]->value)});
  }
  return layers;
}

class GruCases : public ::testing::TestWithParam<GruCase> {};

TEST_P(GruCases, ForwardAndEveryGradientMatchTheReferenceAndFiniteDifferences) {
  const GruCase c = GetParam();
  Gru gru(options_for(c));
  gru.init(11);
  const int64_t rows = gru.state_rows();
  const Tensor x = random_tensor({c.steps, c.batch, c.input}, 1);
  const Tensor h0 = random_tensor({rows, c.batch, c.hidden}, 2, 0.5f);
  // loss = <wy, y> + <wh, hT>
  const Tensor wy = random_tensor({c.steps, c.batch, gru.output_size()}, 4);
  const Tensor wh = random_tensor({rows, c.batch, c.hidden}, 5);

  Tensor y, hT, dx, dh0;
  GruTape tape;
  gru.forward(x, h0, y, hT, tape);
  zero_grads(gru.parameters());
  gru.backward(tape, wy, wh, dx, dh0);

  std::vector<double> xd = to_double(x), h0d = to_double(h0);
  auto weights = reference_weights(gru);
  auto loss = [&] {
    const auto r = reference::gru_forward(xd, h0d, weights, c.steps, c.batch, c.input, c.hidden,
                                          c.bidirectional);
    return dot(r.y, to_double(wy)) + dot(r.hT, to_double(wh));
  };
  const auto ref = reference::gru_forward(xd, h0d, weights, c.steps, c.batch, c.input, c.hidden,
                                          c.bidirectional);
  EXPECT_TRUE(all_close(y, ref.y, 1e-5, 1e-6));
  EXPECT_TRUE(all_close(hT, ref.hT, 1e-5, 1e-6));
  const auto grads = reference::gru_backward(xd, h0d, weights, to_double(wy), to_double(wh),
                                             c.steps, c.batch, c.input, c.hidden, c.bidirectional);

  // Ours against the reference's backward and against finite differences; the reference's
  // backward against finite differences, in double.
  const double rtol = 1e-4, atol = 1e-5;
  auto check = [&](const Tensor& ours, const std::vector<double>& analytic,
                   std::vector<double>& values, const std::string& what) {
    const auto numeric = finite_difference(loss, values);
    EXPECT_TRUE(all_close(ours, analytic, rtol, atol)) << what << " vs reference";
    EXPECT_TRUE(all_close(ours, numeric, rtol, atol)) << what << " vs finite differences";
    EXPECT_TRUE(all_close(analytic, numeric, 1e-6, 1e-8)) << what << " reference vs fd";
  };
  check(dx, grads.dx, xd, "d x");
  check(dh0, grads.dh0, h0d, "d h0");
  const auto params = gru.parameters();
  for (std::size_t l = 0; l < weights.size(); ++l) {
    check(params[4 * l]->grad, grads.layers[l].w_ih, weights[l].w_ih, params[4 * l]->name);
    check(params[4 * l + 1]->grad, grads.layers[l].w_hh, weights[l].w_hh, params[4 * l + 1]->name);
    check(params[4 * l + 2]->grad, grads.layers[l].b_ih, weights[l].b_ih, params[4 * l + 2]->name);
    check(params[4 * l + 3]->grad, grads.layers[l].b_hh, weights[l].b_hh, params[4 * l + 3]->name);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Gru, GruCases,
    ::testing::Values(GruCase{4, 3, 5, 4, 1, false}, GruCase{4, 3, 5, 4, 2, false},
                      GruCase{3, 2, 3, 4, 1, true}, GruCase{3, 2, 3, 4, 2, true},
                      GruCase{1, 2, 4, 3, 2, false}, GruCase{1, 2, 4, 3, 2, true}));

TEST(GruLayer, ZeroInitialStatesEqualEmptyStates) {
  Gru gru(options_for({5, 2, 3, 4, 2, false}));
  gru.init(3);
  const Tensor x = random_tensor({5, 2, 3}, 9);
  Tensor y1, hT1, y2, hT2;
  GruTape tape1, tape2;
  gru.forward(x, Tensor(), y1, hT1, tape1);
  gru.forward(x, Tensor({2, 2, 4}), y2, hT2, tape2);
  EXPECT_EQ(to_double(y1), to_double(y2));
  EXPECT_EQ(to_double(hT1), to_double(hT2));
}

TEST(GruLayer, GradientsAccumulateAcrossBackwardCalls) {
  Gru gru(options_for({4, 2, 3, 4, 2, true}));
  gru.init(5);
  const Tensor x = random_tensor({4, 2, 3}, 1);
  const Tensor dy = random_tensor({4, 2, 8}, 2);
  Tensor y, hT, dx, dh0;
  GruTape tape;
  gru.forward(x, Tensor(), y, hT, tape);
  zero_grads(gru.parameters());
  gru.backward(tape, dy, Tensor(), dx, dh0);
  std::vector<std::vector<double>> once;
  for (Parameter* p : gru.parameters())
    once.push_back(to_double(p->grad));
  gru.backward(tape, dy, Tensor(), dx, dh0);
  const auto params = gru.parameters();
  for (std::size_t i = 0; i < params.size(); ++i) {
    std::vector<double> twice = once[i];
    for (double& v : twice)
      v *= 2.0;
    EXPECT_TRUE(all_close(params[i]->grad, twice, 1e-6, 1e-7)) << params[i]->name;
  }
}

TEST(GruLayer, StepModeEqualsSequenceMode) {
  const int64_t T = 6, B = 3, I = 5, H = 4, L = 2;
  Gru gru(options_for({T, B, I, H, L, false}));
  gru.init(21);
  const Tensor x = random_tensor({T, B, I}, 1);
  const Tensor h0 = random_tensor({L, B, H}, 2);
  const Tensor dy = random_tensor({T, B, H}, 4);
  Tensor y, hT, dx, dh0;
  GruTape tape;
  gru.forward(x, h0, y, hT, tape);
  zero_grads(gru.parameters());
  gru.backward(tape, dy, Tensor(), dx, dh0);
  std::vector<std::vector<double>> sequence_grads;
  for (Parameter* p : gru.parameters())
    sequence_grads.push_back(to_double(p->grad));

  zero_grads(gru.parameters());
  gru.begin_steps();
  std::vector<GruTape> tapes(T);
  std::vector<Tensor> h(T + 1);
  h[0] = h0;
  std::vector<double> y_steps;
  for (int64_t t = 0; t < T; ++t) {
    Tensor x_t({B, I}), y_t;
    std::copy_n(x.data() + t * B * I, B * I, x_t.data());
    gru.step_forward(x_t, h[t], y_t, h[t + 1], tapes[t]);
    y_steps.insert(y_steps.end(), y_t.values().begin(), y_t.values().end());
  }
  EXPECT_EQ(y_steps, to_double(y)) << "stepping must be bit-identical to the sequence call";
  EXPECT_EQ(to_double(h[T]), to_double(hT));

  Tensor dh = Tensor();
  std::vector<double> dx_steps(static_cast<std::size_t>(T * B * I));
  for (int64_t t = T - 1; t >= 0; --t) {
    Tensor dy_t({B, H}), dx_t, dh_in;
    std::copy_n(dy.data() + t * B * H, B * H, dy_t.data());
    gru.step_backward(tapes[t], dy_t, dh, dx_t, dh_in);
    std::copy_n(dx_t.data(), B * I, dx_steps.begin() + t * B * I);
    dh = dh_in;
  }
  gru.end_step_backward();
  EXPECT_TRUE(all_close(dx_steps, to_double(dx), 1e-5, 1e-6));
  EXPECT_TRUE(all_close(dh, to_double(dh0), 1e-5, 1e-6));
  const auto params = gru.parameters();
  for (std::size_t i = 0; i < params.size(); ++i) {
    EXPECT_TRUE(all_close(params[i]->grad, sequence_grads[i], 1e-5, 1e-6)) << params[i]->name;
  }
}

TEST(GruLayer, DropoutGradientsMatchTheReferenceWithTheSameMasks) {
  const int64_t T = 4, B = 2, I = 3, H = 4, L = 2;
  GruOptions o = options_for({T, B, I, H, L, false});
  o.input_dropout = 0.3f;
  o.between_dropout = 0.4f;
  o.output_dropout = 0.25f;
  o.rng_tag = 7;
  Gru gru(o);
  gru.init(8);
  gru.set_dropout_step(1234, 17);
  const Tensor x = random_tensor({T, B, I}, 1);
  const Tensor wy = random_tensor({T, B, H}, 2);
  Tensor y, hT, dx, dh0;
  GruTape tape;
  gru.forward(x, Tensor(), y, hT, tape);
  ASSERT_FALSE(tape.layers[0].input_mask.empty());
  ASSERT_FALSE(tape.layers[1].input_mask.empty());
  ASSERT_FALSE(tape.output_mask.empty());
  zero_grads(gru.parameters());
  gru.backward(tape, wy, Tensor(), dx, dh0);

  // The same network in double precision with the masks the forward drew.
  std::vector<double> xd = to_double(x);
  auto weights = reference_weights(gru);
  auto masked = [](std::vector<double> v, const Tensor& mask) {
    for (std::size_t i = 0; i < v.size(); ++i)
      v[i] *= mask[static_cast<int64_t>(i)];
    return v;
  };
  auto loss = [&] {
    auto in0 = masked(xd, tape.layers[0].input_mask);
    auto r0 = reference::gru_forward(in0, {}, {weights[0]}, T, B, I, H, false);
    auto in1 = masked(r0.y, tape.layers[1].input_mask);
    auto r1 = reference::gru_forward(in1, {}, {weights[1]}, T, B, H, H, false);
    return dot(masked(r1.y, tape.output_mask), to_double(wy));
  };
  EXPECT_TRUE(all_close(dx, finite_difference(loss, xd), 1e-4, 1e-5));
  const auto params = gru.parameters();
  for (std::size_t l = 0; l < 2; ++l) {
    EXPECT_TRUE(
        all_close(params[4 * l]->grad, finite_difference(loss, weights[l].w_ih), 1e-4, 1e-5));
    EXPECT_TRUE(
        all_close(params[4 * l + 1]->grad, finite_difference(loss, weights[l].w_hh), 1e-4, 1e-5));
  }

  // A rerun of the same step draws the same masks bit for bit; evaluation switches dropout off.
  Tensor y_again;
  GruTape tape_again;
  gru.set_dropout_step(1234, 17);
  gru.forward(x, Tensor(), y_again, hT, tape_again);
  EXPECT_EQ(to_double(y_again), to_double(y));
  gru.set_training(false);
  gru.forward(x, Tensor(), y_again, hT, tape_again);
  EXPECT_TRUE(tape_again.output_mask.empty());
}

TEST(GruLayer, TorchStateRoundTripsAndRejectsWrongShapes) {
  GruOptions o = options_for({1, 1, 3, 4, 2, true});
  Gru a(o), b(o);
  a.init(1);
  const auto exported = a.export_torch();
  ASSERT_EQ(exported.size(), 16u);
  EXPECT_EQ(exported[0].first, "weight_ih_l0");
  EXPECT_EQ(exported[3].first, "bias_hh_l0");
  EXPECT_EQ(exported[4].first, "weight_ih_l0_reverse");
  EXPECT_EQ(exported[8].second.dims(), (std::vector<int64_t>{12, 8}));
  std::map<std::string, Tensor> state(exported.begin(), exported.end());
  b.import_torch(state);
  for (std::size_t i = 0; i < a.parameters().size(); ++i) {
    EXPECT_EQ(to_double(a.parameters()[i]->value), to_double(b.parameters()[i]->value));
  }
  state["weight_hh_l1"] = Tensor({12, 3});
  EXPECT_THROW(b.import_torch(state), InputError);
  state.erase("bias_hh_l0");
  EXPECT_THROW(b.import_torch(state), InputError);
}

TEST(GruLayer, RejectsBadShapesAndStepModeWhenBidirectional) {
  Gru gru(options_for({1, 1, 3, 4, 1, true}));
  Tensor y, hT;
  GruTape tape;
  EXPECT_THROW(gru.forward(Tensor({2, 2, 5}), Tensor(), y, hT, tape), Error);
  EXPECT_THROW(gru.forward(Tensor({2, 2, 3}), Tensor({1, 2, 4}), y, hT, tape), Error);
  EXPECT_THROW(gru.begin_steps(), UsageError);
  GruOptions bad = options_for({1, 1, 0, 4, 1, false});
  EXPECT_THROW(Gru{bad}, ConfigError);
}

TEST(GruLayer, Bf16AgreesWithF32WithinBf16Rounding) {
  if (!bf16_supported()) GTEST_FAIL() << "this CPU has no oneDNN bf16 support";
  const int64_t T = 8, B = 4, I = 16, H = 32, L = 2;
  GruOptions o = options_for({T, B, I, H, L, false});
  Gru f32(o);
  o.precision = Precision::bf16;
  Gru bf16(o);
  f32.init(2);
  bf16.init(2);
  const Tensor x = random_tensor({T, B, I}, 1);
  const Tensor dy = random_tensor({T, B, H}, 2);
  Tensor y32, y16, hT, dx32, dx16, dh;
  GruTape t32, t16;
  f32.forward(x, Tensor(), y32, hT, t32);
  bf16.forward(x, Tensor(), y16, hT, t16);
  EXPECT_TRUE(all_close(y16, to_double(y32), 1e-2, 1e-2));
  EXPECT_NE(to_double(y16), to_double(y32)) << "the bf16 primitives must really compute in bf16";
  zero_grads(f32.parameters());
  zero_grads(bf16.parameters());
  f32.backward(t32, dy, Tensor(), dx32, dh);
  bf16.backward(t16, dy, Tensor(), dx16, dh);
  EXPECT_TRUE(all_close(dx16, to_double(dx32), 1e-2, 1e-2));
  for (std::size_t i = 0; i < f32.parameters().size(); ++i) {
    // Gradients sum T*B products: compare relative to the gradient's scale.
    const auto ref = to_double(f32.parameters()[i]->grad);
    double scale = 0.0;
    for (double v : ref)
      scale = std::max(scale, std::abs(v));
    EXPECT_TRUE(all_close(bf16.parameters()[i]->grad, ref, 1e-2, 1e-2 * scale))
        << f32.parameters()[i]->name;
  }
}

}  // namespace
}  // namespace cadenza
