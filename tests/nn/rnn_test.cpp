// The oneDNN plain RNN (tanh and relu) against the double-precision reference: forward values, and
// every gradient against the reference's backpropagation and against finite differences of its
// forward; plus step mode, dropout, accumulation, the PyTorch state round trip and bf16.
#include "nn/rnn.hpp"

#include <gtest/gtest.h>

#include "nn/reference/rnn_reference.hpp"
#include "recurrent_test_support.hpp"

namespace cadenza {
namespace {

using testing::RecurrentCase;
using Checks = testing::RecurrentChecks<Rnn, RnnTape, RnnOptions>;
using Weights = reference::RnnLayerWeights;

struct RnnCase {
  int64_t steps, batch, input, hidden, layers;
  bool bidirectional;
  RnnActivation activation = RnnActivation::tanh;
};

// One layer's weights in the order of its parameters.
std::vector<std::vector<double>*> fields(Weights& w) {
  return {&w.w_ih, &w.w_hh, &w.b};
}

reference::Nonlinearity nonlinearity(RnnActivation activation) {
  return activation == RnnActivation::tanh ? reference::Nonlinearity::tanh
                                           : reference::Nonlinearity::relu;
}

class RnnCases : public ::testing::TestWithParam<RnnCase> {};

TEST_P(RnnCases, ForwardAndEveryGradientMatchTheReferenceAndFiniteDifferences) {
  const RnnCase& p = GetParam();
  const RecurrentCase c{p.steps, p.batch, p.input, p.hidden, p.layers, p.bidirectional};
  RnnOptions o = testing::recurrent_options<RnnOptions>(c);
  o.activation = p.activation;
  const reference::Nonlinearity act = nonlinearity(o.activation);
  Checks::forward_and_every_gradient_match<Weights>(
      o, c, fields,
      [&](const auto& x, const auto& h0, const auto& weights) {
        return reference::rnn_forward(x, h0, weights, act, c.steps, c.batch, c.input, c.hidden,
                                      c.bidirectional);
      },
      [&](const auto& x, const auto& h0, const auto& weights, const auto& wy, const auto& wh) {
        return reference::rnn_backward(x, h0, weights, act, wy, wh, c.steps, c.batch, c.input,
                                       c.hidden, c.bidirectional);
      });
}

constexpr RnnActivation kRelu = RnnActivation::relu;

INSTANTIATE_TEST_SUITE_P(
    Rnn, RnnCases,
    ::testing::Values(RnnCase{4, 3, 5, 4, 1, false}, RnnCase{4, 3, 5, 4, 2, false},
                      RnnCase{3, 2, 3, 4, 1, true}, RnnCase{3, 2, 3, 4, 2, true},
                      RnnCase{1, 2, 4, 3, 2, false}, RnnCase{1, 2, 4, 3, 2, true},
                      RnnCase{4, 3, 5, 4, 2, false, kRelu}, RnnCase{3, 2, 3, 4, 2, true, kRelu},
                      RnnCase{1, 2, 4, 3, 1, false, kRelu}));

TEST(RnnLayer, ZeroInitialStatesEqualEmptyStates) {
  Checks::zero_initial_states_equal_empty_states();
}

TEST(RnnLayer, InferenceForwardEqualsTrainingForward) {
  Checks::inference_forward_equals_training_forward();
}

TEST(RnnLayer, GradientsAccumulateAcrossBackwardCalls) {
  Checks::gradients_accumulate_across_backward_calls();
}

TEST(RnnLayer, StepModeEqualsSequenceMode) {
  Checks::step_mode_equals_sequence_mode();
}

TEST(RnnLayer, DropoutGradientsMatchTheReferenceWithTheSameMasks) {
  Checks::dropout_gradients_match_the_reference<Weights>(fields, [](const std::vector<double>& x,
                                                                    const Weights& w, int64_t T,
                                                                    int64_t B, int64_t I,
                                                                    int64_t H) {
    return reference::rnn_forward(x, {}, {w}, reference::Nonlinearity::tanh, T, B, I, H, false).y;
  });
}

TEST(RnnLayer, TorchStateRoundTripsAndRejectsWrongShapes) {
  Checks::torch_state_round_trips_and_rejects_wrong_shapes(4);
}

TEST(RnnLayer, RejectsBadShapesAndStepModeWhenBidirectional) {
  Checks::rejects_bad_shapes_and_step_mode_when_bidirectional();
}

TEST(RnnLayer, Bf16AgreesWithF32WithinBf16Rounding) {
  Checks::bf16_agrees_with_f32_within_bf16_rounding();
}

}  // namespace
}  // namespace cadenza
