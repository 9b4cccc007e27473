// The oneDNN GRU against the double-precision reference: forward values, and every gradient
// against the reference's backpropagation and against finite differences of its forward; plus
// step mode, dropout, accumulation, the PyTorch state round trip and bf16.
#include "nn/gru.hpp"

#include <gtest/gtest.h>

#include "nn/reference/gru_reference.hpp"
#include "recurrent_test_support.hpp"

namespace cadenza {
namespace {

using testing::RecurrentCase;
using Checks = testing::RecurrentChecks<Gru, GruTape, GruOptions>;
using Weights = reference::GruLayerWeights;

// One layer's weights in the order of its parameters.
std::vector<std::vector<double>*> fields(Weights& w) {
  return {&w.w_ih, &w.w_hh, &w.b_ih, &w.b_hh};
}

class GruCases : public ::testing::TestWithParam<RecurrentCase> {};

TEST_P(GruCases, ForwardAndEveryGradientMatchTheReferenceAndFiniteDifferences) {
  const RecurrentCase c = GetParam();
  Checks::forward_and_every_gradient_match<Weights>(
      testing::recurrent_options<GruOptions>(c), c, fields,
      [&](const auto& x, const auto& h0, const auto& weights) {
        return reference::gru_forward(x, h0, weights, c.steps, c.batch, c.input, c.hidden,
                                      c.bidirectional);
      },
      [&](const auto& x, const auto& h0, const auto& weights, const auto& wy, const auto& wh) {
        return reference::gru_backward(x, h0, weights, wy, wh, c.steps, c.batch, c.input, c.hidden,
                                       c.bidirectional);
      });
}

INSTANTIATE_TEST_SUITE_P(
    Gru, GruCases,
    ::testing::Values(RecurrentCase{4, 3, 5, 4, 1, false}, RecurrentCase{4, 3, 5, 4, 2, false},
                      RecurrentCase{3, 2, 3, 4, 1, true}, RecurrentCase{3, 2, 3, 4, 2, true},
                      RecurrentCase{1, 2, 4, 3, 2, false}, RecurrentCase{1, 2, 4, 3, 2, true}));

TEST(GruLayer, ZeroInitialStatesEqualEmptyStates) {
  Checks::zero_initial_states_equal_empty_states();
}

TEST(GruLayer, InferenceForwardEqualsTrainingForward) {
  Checks::inference_forward_equals_training_forward();
}

TEST(GruLayer, GradientsAccumulateAcrossBackwardCalls) {
  Checks::gradients_accumulate_across_backward_calls();
}

TEST(GruLayer, StepModeEqualsSequenceMode) {
  Checks::step_mode_equals_sequence_mode();
}

TEST(GruLayer, DropoutGradientsMatchTheReferenceWithTheSameMasks) {
  Checks::dropout_gradients_match_the_reference<Weights>(
      fields, [](const std::vector<double>& x, const Weights& w, int64_t T, int64_t B, int64_t I,
                 int64_t H) { return reference::gru_forward(x, {}, {w}, T, B, I, H, false).y; });
}

TEST(GruLayer, TorchStateRoundTripsAndRejectsWrongShapes) {
  Checks::torch_state_round_trips_and_rejects_wrong_shapes(12);
}

TEST(GruLayer, RejectsBadShapesAndStepModeWhenBidirectional) {
  Checks::rejects_bad_shapes_and_step_mode_when_bidirectional();
}

TEST(GruLayer, Bf16AgreesWithF32WithinBf16Rounding) {
  Checks::bf16_agrees_with_f32_within_bf16_rounding();
}

}  // namespace
}  // namespace cadenza
