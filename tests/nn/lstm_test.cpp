// The oneDNN LSTM against the double-precision reference (forward values, and every gradient by
// finite differences of the reference), plus step mode, dropout, accumulation and bf16.
#include "nn/lstm.hpp"

#include <gtest/gtest.h>

#include <map>

#include "core/error.hpp"
#include "nn/gru.hpp"
#include "nn/reference/lstm_reference.hpp"
#include "nn_test_util.hpp"
#include "recurrent_test_support.hpp"

namespace cadenza {
namespace {

using testing::all_close;
using testing::dot;
using testing::finite_difference;
using testing::random_tensor;
using testing::to_double;

struct LstmCase {
  int64_t steps, batch, input, hidden, layers;
  bool bidirectional;
};

LstmOptions options_for(const LstmCase& c) {
  LstmOptions o;
  o.input_size = c.input;
  o.hidden_size = c.hidden;
  o.layers = c.layers;
  o.bidirectional = c.bidirectional;
  return o;
}

// The parameters of `lstm` as reference weights (same PyTorch layout).
std::vector<reference::LstmLayerWeights> reference_weights(Lstm& lstm) {
  std::vector<reference::LstmLayerWeights> layers;
  const auto params = lstm.parameters();
  for (std::size_t i = 0; i < params.size(); i += 3) {
    layers.push_back({to_double(params[i]->value), to_double(params[i + 1]->value),
                      to_double(params[i + 2]->value)});
  }
  return layers;
}

class NnLstmCases : public ::testing::TestWithParam<LstmCase> {};

TEST_P(NnLstmCases, ForwardAndEveryGradientMatchTheReference) {
  const LstmCase c = GetParam();
  Lstm lstm(options_for(c));
  lstm.init(11);
  const int64_t rows = lstm.state_rows();
  const Tensor x = random_tensor({c.steps, c.batch, c.input}, 1);
  const Tensor h0 = random_tensor({rows, c.batch, c.hidden}, 2, 0.5f);
  const Tensor c0 = random_tensor({rows, c.batch, c.hidden}, 3, 0.5f);
  // loss = <wy, y> + <wh, hT> + <wc, cT>
  const Tensor wy = random_tensor({c.steps, c.batch, lstm.output_size()}, 4);
  const Tensor wh = random_tensor({rows, c.batch, c.hidden}, 5);
  const Tensor wc = random_tensor({rows, c.batch, c.hidden}, 6);

  Tensor y, hT, cT, dx, dh0, dc0;
  LstmTape tape;
  lstm.forward(x, h0, c0, y, hT, cT, tape);
  zero_grads(lstm.parameters());
  lstm.backward(tape, wy, wh, wc, dx, dh0, dc0);

  std::vector<double> xd = to_double(x), h0d = to_double(h0), c0d = to_double(c0);
  auto weights = reference_weights(lstm);
  auto loss = [&] {
    const auto r = reference::lstm_forward(xd, h0d, c0d, weights, c.steps, c.batch, c.input,
                                           c.hidden, c.bidirectional);
    return dot(r.y, to_double(wy)) + dot(r.hT, to_double(wh)) + dot(r.cT, to_double(wc));
  };
  const auto ref = reference::lstm_forward(xd, h0d, c0d, weights, c.steps, c.batch, c.input,
                                           c.hidden, c.bidirectional);
  EXPECT_TRUE(all_close(y, ref.y, 1e-5, 1e-6));
  EXPECT_TRUE(all_close(hT, ref.hT, 1e-5, 1e-6));
  EXPECT_TRUE(all_close(cT, ref.cT, 1e-5, 1e-6));

  const double rtol = 1e-4, atol = 1e-5;
  EXPECT_TRUE(all_close(dx, finite_difference(loss, xd), rtol, atol)) << "d x";
  EXPECT_TRUE(all_close(dh0, finite_difference(loss, h0d), rtol, atol)) << "d h0";
  EXPECT_TRUE(all_close(dc0, finite_difference(loss, c0d), rtol, atol)) << "d c0";
  const auto params = lstm.parameters();
  for (std::size_t l = 0; l < weights.size(); ++l) {
    EXPECT_TRUE(
        all_close(params[3 * l]->grad, finite_difference(loss, weights[l].w_ih), rtol, atol))
        << params[3 * l]->name;
    EXPECT_TRUE(
        all_close(params[3 * l + 1]->grad, finite_difference(loss, weights[l].w_hh), rtol, atol))
        << params[3 * l + 1]->name;
    EXPECT_TRUE(
        all_close(params[3 * l + 2]->grad, finite_difference(loss, weights[l].b), rtol, atol))
        << params[3 * l + 2]->name;
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, NnLstmCases,
                         ::testing::Values(LstmCase{4, 3, 5, 4, 2, false},
                                           LstmCase{3, 2, 3, 4, 2, true},
                                           LstmCase{3, 2, 4, 4, 1, false}));

TEST(NnLstm, ZeroInitialStatesEqualEmptyStates) {
  Lstm lstm(options_for({5, 2, 3, 4, 2, false}));
  lstm.init(3);
  const Tensor x = random_tensor({5, 2, 3}, 9);
  Tensor y1, hT1, cT1, y2, hT2, cT2, dx1, dh1, dc1, dx2, dh2, dc2;
  LstmTape tape1, tape2;
  lstm.forward(x, Tensor(), Tensor(), y1, hT1, cT1, tape1);
  lstm.forward(x, Tensor({2, 2, 4}), Tensor({2, 2, 4}), y2, hT2, cT2, tape2);
  EXPECT_EQ(to_double(y1), to_double(y2));
  EXPECT_EQ(to_double(hT1), to_double(hT2));
}

TEST(NnLstm, GradientsAccumulateAcrossBackwardCalls) {
  Lstm lstm(options_for({4, 2, 3, 4, 2, true}));
  lstm.init(5);
  const Tensor x = random_tensor({4, 2, 3}, 1);
  const Tensor dy = random_tensor({4, 2, 8}, 2);
  Tensor y, hT, cT, dx, dh0, dc0;
  LstmTape tape;
  lstm.forward(x, Tensor(), Tensor(), y, hT, cT, tape);
  zero_grads(lstm.parameters());
  lstm.backward(tape, dy, Tensor(), Tensor(), dx, dh0, dc0);
  std::vector<std::vector<double>> once;
  for (Parameter* p : lstm.parameters())
    once.push_back(to_double(p->grad));
  lstm.backward(tape, dy, Tensor(), Tensor(), dx, dh0, dc0);
  const auto params = lstm.parameters();
  for (std::size_t i = 0; i < params.size(); ++i) {
    std::vector<double> twice = once[i];
    for (double& v : twice)
      v *= 2.0;
    EXPECT_TRUE(all_close(params[i]->grad, twice, 1e-6, 1e-7)) << params[i]->name;
  }
}

TEST(NnLstm, StepModeEqualsSequenceMode) {
  const int64_t T = 6, B = 3, I = 5, H = 4, L = 2;
  Lstm lstm(options_for({T, B, I, H, L, false}));
  lstm.init(21);
  const Tensor x = random_tensor({T, B, I}, 1);
  const Tensor h0 = random_tensor({L, B, H}, 2);
  const Tensor c0 = random_tensor({L, B, H}, 3);
  const Tensor dy = random_tensor({T, B, H}, 4);
  Tensor y, hT, cT, dx, dh0, dc0;
  LstmTape tape;
  lstm.forward(x, h0, c0, y, hT, cT, tape);
  zero_grads(lstm.parameters());
  lstm.backward(tape, dy, Tensor(), Tensor(), dx, dh0, dc0);
  std::vector<std::vector<double>> sequence_grads;
  for (Parameter* p : lstm.parameters())
    sequence_grads.push_back(to_double(p->grad));

  zero_grads(lstm.parameters());
  lstm.begin_steps();
  std::vector<LstmTape> tapes(T);
  std::vector<Tensor> h(T + 1), c(T + 1);
  h[0] = h0;
  c[0] = c0;
  std::vector<double> y_steps;
  for (int64_t t = 0; t < T; ++t) {
    Tensor x_t({B, I}), y_t;
    std::copy_n(x.data() + t * B * I, B * I, x_t.data());
    lstm.step_forward(x_t, h[t], c[t], y_t, h[t + 1], c[t + 1], tapes[t]);
    y_steps.insert(y_steps.end(), y_t.values().begin(), y_t.values().end());
  }
  EXPECT_EQ(y_steps, to_double(y)) << "stepping must be bit-identical to the sequence call";
  EXPECT_EQ(to_double(h[T]), to_double(hT));
  EXPECT_EQ(to_double(c[T]), to_double(cT));

  Tensor dh = Tensor(), dc = Tensor();
  std::vector<double> dx_steps(static_cast<std::size_t>(T * B * I));
  for (int64_t t = T - 1; t >= 0; --t) {
    Tensor dy_t({B, H}), dx_t, dh_in, dc_in;
    std::copy_n(dy.data() + t * B * H, B * H, dy_t.data());
    lstm.step_backward(tapes[t], dy_t, dh, dc, dx_t, dh_in, dc_in);
    std::copy_n(dx_t.data(), B * I, dx_steps.begin() + t * B * I);
    dh = dh_in;
    dc = dc_in;
  }
  lstm.end_step_backward();
  EXPECT_TRUE(all_close(dx_steps, to_double(dx), 1e-5, 1e-6));
  EXPECT_TRUE(all_close(dh, to_double(dh0), 1e-5, 1e-6));
  EXPECT_TRUE(all_close(dc, to_double(dc0), 1e-5, 1e-6));
  const auto params = lstm.parameters();
  for (std::size_t i = 0; i < params.size(); ++i) {
    EXPECT_TRUE(all_close(params[i]->grad, sequence_grads[i], 1e-5, 1e-6)) << params[i]->name;
  }
}

TEST(NnLstm, DropoutGradientsMatchTheReferenceWithTheSameMasks) {
  const int64_t T = 4, B = 2, I = 3, H = 4, L = 2;
  LstmOptions o = options_for({T, B, I, H, L, false});
  o.input_dropout = 0.3f;
  o.between_dropout = 0.4f;
  o.output_dropout = 0.25f;
  o.rng_tag = 7;
  Lstm lstm(o);
  lstm.init(8);
  lstm.set_dropout_step(1234, 17);
  const Tensor x = random_tensor({T, B, I}, 1);
  const Tensor wy = random_tensor({T, B, H}, 2);
  Tensor y, hT, cT, dx, dh0, dc0;
  LstmTape tape;
  lstm.forward(x, Tensor(), Tensor(), y, hT, cT, tape);
  ASSERT_FALSE(tape.layers[0].input_mask.empty());
  ASSERT_FALSE(tape.layers[1].input_mask.empty());
  ASSERT_FALSE(tape.output_mask.empty());
  zero_grads(lstm.parameters());
  lstm.backward(tape, wy, Tensor(), Tensor(), dx, dh0, dc0);

  // The same network in double precision with the masks the forward drew.
  std::vector<double> xd = to_double(x);
  auto weights = reference_weights(lstm);
  auto masked = [](std::vector<double> v, const Tensor& mask) {
    for (std::size_t i = 0; i < v.size(); ++i)
      v[i] *= mask[static_cast<int64_t>(i)];
    return v;
  };
  auto loss = [&] {
    auto in0 = masked(xd, tape.layers[0].input_mask);
    auto r0 = reference::lstm_forward(in0, {}, {}, {weights[0]}, T, B, I, H, false);
    auto in1 = masked(r0.y, tape.layers[1].input_mask);
    auto r1 = reference::lstm_forward(in1, {}, {}, {weights[1]}, T, B, H, H, false);
    return dot(masked(r1.y, tape.output_mask), to_double(wy));
  };
  EXPECT_TRUE(all_close(dx, finite_difference(loss, xd), 1e-4, 1e-5));
  const auto params = lstm.parameters();
  for (std::size_t l = 0; l < 2; ++l) {
    EXPECT_TRUE(
        all_close(params[3 * l]->grad, finite_difference(loss, weights[l].w_ih), 1e-4, 1e-5));
    EXPECT_TRUE(
        all_close(params[3 * l + 1]->grad, finite_difference(loss, weights[l].w_hh), 1e-4, 1e-5));
  }

  // A rerun of the same step draws the same masks bit for bit; the next step draws others.
  Tensor y_again, y_next;
  LstmTape tape_again;
  lstm.set_dropout_step(1234, 17);
  lstm.forward(x, Tensor(), Tensor(), y_again, hT, cT, tape_again);
  EXPECT_EQ(to_double(y_again), to_double(y));
  lstm.set_dropout_step(1234, 18);
  lstm.forward(x, Tensor(), Tensor(), y_next, hT, cT, tape_again);
  EXPECT_NE(to_double(y_next), to_double(y));
  // Evaluation mode switches dropout off.
  lstm.set_training(false);
  lstm.forward(x, Tensor(), Tensor(), y_next, hT, cT, tape_again);
  EXPECT_TRUE(tape_again.output_mask.empty());
}

// The checks every cell shares (tests/nn/recurrent_test_support.hpp) that take an LSTM without c.
TEST(NnLstm, InferenceForwardEqualsTrainingForward) {
  testing::RecurrentChecks<Lstm, LstmTape,
                           LstmOptions>::inference_forward_equals_training_forward();
}

TEST(NnLstm, TorchStateRoundTripsAndRejectsWrongShapes) {
  LstmOptions o = options_for({1, 1, 3, 4, 2, true});
  Lstm a(o), b(o);
  a.init(1);
  const auto exported = a.export_torch();
  ASSERT_EQ(exported.size(), 16u);
  EXPECT_EQ(exported[0].first, "weight_ih_l0");
  EXPECT_EQ(exported[4].first, "weight_ih_l0_reverse");
  EXPECT_EQ(exported[8].second.dims(), (std::vector<int64_t>{16, 8}));
  std::map<std::string, Tensor> state(exported.begin(), exported.end());
  b.import_torch(state);
  for (std::size_t i = 0; i < a.parameters().size(); ++i) {
    EXPECT_EQ(to_double(a.parameters()[i]->value), to_double(b.parameters()[i]->value));
  }
  state["weight_hh_l1"] = Tensor({16, 3});
  EXPECT_THROW(b.import_torch(state), InputError);
  state.erase("bias_hh_l0");
  EXPECT_THROW(b.import_torch(state), InputError);
}

TEST(NnLstm, ForgetBiasSetsTheForgetGateOfEveryLayerAndDirectionOnly) {
  const LstmOptions plain = options_for({1, 1, 3, 4, 2, true});
  LstmOptions biased = plain;
  biased.forget_bias = 10.0f;
  Lstm a(plain), b(biased);
  a.init(5);
  b.init(5);
  const int64_t hidden = 4, gates = 4;
  for (std::size_t i = 0; i < a.parameters().size(); ++i) {
    const std::string& name = a.parameters()[i]->name;
    const auto before = to_double(a.parameters()[i]->value);
    const auto after = to_double(b.parameters()[i]->value);
    if (!name.ends_with("/b")) {
      EXPECT_EQ(before, after) << name << ": only the bias changes";
      continue;
    }
    ASSERT_EQ(after.size(), static_cast<std::size_t>(2 * gates * hidden)) << name;
    for (int64_t j = 0; j < static_cast<int64_t>(after.size()); ++j) {
      const bool forget = (j % (gates * hidden)) / hidden == 1;  // gates i, f, g, o
      EXPECT_EQ(after[j], forget ? 10.0 : before[j]) << name << "[" << j << "]";
    }
  }
  GruOptions gru = plain;
  gru.forget_bias = 1.0f;
  EXPECT_THROW(Gru{gru}.init(1), ConfigError) << "a GRU has no forget gate";
}

TEST(NnLstm, RejectsBadShapesAndStepModeWhenBidirectional) {
  Lstm lstm(options_for({1, 1, 3, 4, 1, true}));
  Tensor y, hT, cT;
  LstmTape tape;
  EXPECT_THROW(lstm.forward(Tensor({2, 2, 5}), Tensor(), Tensor(), y, hT, cT, tape), Error);
  EXPECT_THROW(lstm.forward(Tensor({2, 2, 3}), Tensor({1, 2, 4}), Tensor(), y, hT, cT, tape),
               Error);
  EXPECT_THROW(lstm.begin_steps(), UsageError);
  LstmOptions bad = options_for({1, 1, 0, 4, 1, false});
  EXPECT_THROW(Lstm{bad}, ConfigError);
}

TEST(NnLstm, Bf16AgreesWithF32WithinBf16Rounding) {
  if (!bf16_supported()) GTEST_FAIL() << "this CPU has no oneDNN bf16 support";
  const int64_t T = 8, B = 4, I = 16, H = 32, L = 2;
  LstmOptions o = options_for({T, B, I, H, L, false});
  Lstm f32(o);
  o.precision = Precision::bf16;
  Lstm bf16(o);
  f32.init(2);
  bf16.init(2);
  const Tensor x = random_tensor({T, B, I}, 1);
  const Tensor dy = random_tensor({T, B, H}, 2);
  Tensor y32, y16, hT, cT, dx32, dx16, dh, dc;
  LstmTape t32, t16;
  f32.forward(x, Tensor(), Tensor(), y32, hT, cT, t32);
  bf16.forward(x, Tensor(), Tensor(), y16, hT, cT, t16);
  EXPECT_TRUE(all_close(y16, to_double(y32), 1e-2, 1e-2));
  zero_grads(f32.parameters());
  zero_grads(bf16.parameters());
  f32.backward(t32, dy, Tensor(), Tensor(), dx32, dh, dc);
  bf16.backward(t16, dy, Tensor(), Tensor(), dx16, dh, dc);
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
