// Attention (dot, general, additive) and the combine layer: forward against the double
// reference, every gradient against finite differences, batched and step-by-step, with padded
// keys getting exactly zero weight and zero gradient.
#include "nn/attention.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "nn/reference/dense_reference.hpp"
#include "nn_test_util.hpp"

namespace cadenza {
namespace {

using testing::all_close;
using testing::dot;
using testing::finite_difference;
using testing::random_tensor;
using testing::to_double;

constexpr int64_t T = 3, B = 2, S = 4, Hq = 5, A = 3;

reference::Score reference_score(AttentionScore s) {
  return s == AttentionScore::dot       ? reference::Score::dot
         : s == AttentionScore::general ? reference::Score::general
                                        : reference::Score::additive;
}

Tensor padded_mask() {
  Tensor mask({B, S});
  mask.fill(1.0f);
  mask[1 * S + 3] = 0.0f;  // sequence 1 has 3 real keys
  mask[1 * S + 2] = 0.0f;  // ... 2 real keys
  return mask;
}

struct Case {
  AttentionScore score;
  bool stepwise;
};

class NnAttentionCases : public ::testing::TestWithParam<Case> {};

TEST_P(NnAttentionCases, ForwardAndEveryGradientMatchTheReference) {
  const Case c = GetParam();
  const int64_t Hk = c.score == AttentionScore::dot ? Hq : 6;
  Attention attention({c.score, Hq, Hk, A});
  attention.init(3, 1);
  const Tensor queries = random_tensor({T, B, Hq}, 1);
  const Tensor keys = random_tensor({S, B, Hk}, 2);
  const Tensor mask = padded_mask();
  const Tensor wc = random_tensor({T, B, Hk}, 3);

  AttentionKeys prepared;
  attention.prepare_keys(keys, mask, prepared);
  zero_grads(attention.parameters());
  Tensor context({T, B, Hk}), weights({T, B, S}), diff_queries({T, B, Hq}), diff_keys;
  if (c.stepwise) {
    std::vector<AttentionTape> tapes(T);
    for (int64_t t = 0; t < T; ++t) {
      Tensor q({1, B, Hq}), ctx, w;
      std::copy_n(queries.data() + t * B * Hq, B * Hq, q.data());
      attention.attend(q, prepared, ctx, w, tapes[t]);
      std::copy_n(ctx.data(), B * Hk, context.data() + t * B * Hk);
      std::copy_n(w.data(), B * S, weights.data() + t * B * S);
    }
    for (int64_t t = T - 1; t >= 0; --t) {
      Tensor dc({1, B, Hk}), dq;
      std::copy_n(wc.data() + t * B * Hk, B * Hk, dc.data());
      attention.attend_backward(tapes[t], prepared, dc, dq);
      std::copy_n(dq.data(), B * Hq, diff_queries.data() + t * B * Hq);
    }
  } else {
    AttentionTape tape;
    attention.attend(queries, prepared, context, weights, tape);
    attention.attend_backward(tape, prepared, wc, diff_queries);
  }
  attention.keys_backward(prepared, diff_keys);

  // Padded keys: exactly zero weight.
  for (int64_t t = 0; t < T; ++t) {
    EXPECT_EQ(weights[(t * B + 1) * S + 2], 0.0f);
    EXPECT_EQ(weights[(t * B + 1) * S + 3], 0.0f);
  }
  // ... and exactly zero gradient for their key vectors.
  for (int64_t s = 2; s < S; ++s) {
    for (int64_t j = 0; j < Hk; ++j)
      EXPECT_EQ(diff_keys[(s * B + 1) * Hk + j], 0.0f);
  }

  std::vector<double> qd = to_double(queries), kd = to_double(keys);
  const auto params = attention.parameters();
  reference::AttentionWeights rw;
  if (c.score == AttentionScore::general) rw.w_a = to_double(params[0]->value);
  if (c.score == AttentionScore::additive) {
    rw.w = to_double(params[0]->value);
    rw.u = to_double(params[1]->value);
    rw.v = to_double(params[2]->value);
  }
  auto forward = [&] {
    return reference::attention_forward(reference_score(c.score), qd, kd, to_double(mask), rw, T, B,
                                        S, Hq, Hk, A);
  };
  auto loss = [&] { return dot(forward().context, to_double(wc)); };
  const auto ref = forward();
  EXPECT_TRUE(all_close(context, ref.context, 1e-5, 1e-6));
  EXPECT_TRUE(all_close(weights, ref.weights, 1e-5, 1e-6));
  EXPECT_TRUE(all_close(diff_queries, finite_difference(loss, qd), 1e-4, 1e-5));
  EXPECT_TRUE(all_close(diff_keys, finite_difference(loss, kd), 1e-4, 1e-5));
  if (c.score == AttentionScore::general) {
    EXPECT_TRUE(all_close(params[0]->grad, finite_difference(loss, rw.w_a), 1e-4, 1e-5));
  }
  if (c.score == AttentionScore::additive) {
    EXPECT_TRUE(all_close(params[0]->grad, finite_difference(loss, rw.w), 1e-4, 1e-5));
    EXPECT_TRUE(all_close(params[1]->grad, finite_difference(loss, rw.u), 1e-4, 1e-5));
    EXPECT_TRUE(all_close(params[2]->grad, finite_difference(loss, rw.v), 1e-4, 1e-5));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Scores, NnAttentionCases,
    ::testing::Values(Case{AttentionScore::dot, false}, Case{AttentionScore::general, false},
                      Case{AttentionScore::additive, false}, Case{AttentionScore::dot, true},
                      Case{AttentionScore::general, true}, Case{AttentionScore::additive, true}));

TEST(NnAttention, CombineMatchesTheReference) {
  const int64_t Hk = 6, out = 4;
  AttentionCombine combine(Hk, Hq, out);
  combine.init(5, 2);
  ASSERT_EQ(combine.parameters()[0]->name, "W_c");
  const Tensor context = random_tensor({T, B, Hk}, 1), queries = random_tensor({T, B, Hq}, 2);
  const Tensor wy = random_tensor({T, B, out}, 3);
  Tensor y, dc, dq;
  AttentionCombineTape tape;
  combine.forward(context, queries, y, tape);
  zero_grads(combine.parameters());
  combine.backward(tape, wy, dc, dq);
  std::vector<double> cd = to_double(context), qd = to_double(queries),
                      w = to_double(combine.parameters()[0]->value);
  auto forward = [&] { return reference::combine_forward(cd, qd, w, T * B, Hk, Hq, out); };
  auto loss = [&] { return dot(forward(), to_double(wy)); };
  EXPECT_TRUE(all_close(y, forward(), 1e-5, 1e-6));
  EXPECT_TRUE(all_close(dc, finite_difference(loss, cd), 1e-5, 1e-6));
  EXPECT_TRUE(all_close(dq, finite_difference(loss, qd), 1e-5, 1e-6));
  EXPECT_TRUE(all_close(combine.parameters()[0]->grad, finite_difference(loss, w), 1e-5, 1e-6));
}

TEST(NnAttention, RejectsBadConfigurationsAndMasks) {
  EXPECT_THROW(Attention({AttentionScore::dot, 4, 6, 0}), ConfigError);
  EXPECT_THROW(Attention({AttentionScore::additive, 4, 6, 0}), ConfigError);
  Attention attention({AttentionScore::dot, 4, 4, 0});
  AttentionKeys prepared;
  Tensor mask({2, 3});
  mask.fill(1.0f);
  mask[3] = mask[4] = mask[5] = 0.0f;
  EXPECT_THROW(attention.prepare_keys(Tensor({3, 2, 4}), mask, prepared), InputError);
  mask[4] = 0.5f;
  EXPECT_THROW(attention.prepare_keys(Tensor({3, 2, 4}), mask, prepared), InputError);
  EXPECT_THROW(attention.prepare_keys(Tensor({3, 2, 5}), mask, prepared), Error);
}

}  // namespace
}  // namespace cadenza

namespace cadenza {
namespace {

// The sizes the quickstart trains with (oneDNN may pick other kernels and layouts there than at
// the tiny sizes above): forward values against the double reference.
TEST(NnAttention, MatchesTheReferenceAtTrainingSizes) {
  const int64_t steps = 32, batch = 8, length = 32, width = 128;
  for (const auto score : {AttentionScore::dot, AttentionScore::general}) {
    Attention attention({score, width, width, width});
    attention.init(3, 1);
    const Tensor queries = random_tensor({steps, batch, width}, 11, 0.5f);
    const Tensor keys = random_tensor({length, batch, width}, 12, 0.5f);
    Tensor mask({batch, length});
    mask.fill(1.0f);
    AttentionKeys prepared;
    AttentionTape tape;
    Tensor context, weights;
    attention.prepare_keys(keys, mask, prepared);
    attention.attend(queries, prepared, context, weights, tape);
    reference::AttentionWeights rw;
    if (score == AttentionScore::general) rw.w_a = to_double(attention.parameters()[0]->value);
    const auto ref = reference::attention_forward(
        score == AttentionScore::dot ? reference::Score::dot : reference::Score::general,
        to_double(queries), to_double(keys), to_double(mask), rw, steps, batch, length, width,
        width, width);
    EXPECT_TRUE(all_close(context, ref.context, 1e-4, 1e-5));
    EXPECT_TRUE(all_close(weights, ref.weights, 1e-4, 1e-5));
  }
  AttentionCombine combine(width, width, width);
  combine.init(5, 2);
  const Tensor context = random_tensor({steps, batch, width}, 13, 0.5f);
  const Tensor queries = random_tensor({steps, batch, width}, 14, 0.5f);
  Tensor output;
  AttentionCombineTape tape;
  combine.forward(context, queries, output, tape);
  const auto ref = reference::combine_forward(to_double(context), to_double(queries),
                                              to_double(combine.parameters()[0]->value),
                                              steps * batch, width, width, width);
  EXPECT_TRUE(all_close(output, ref, 1e-4, 1e-5));
}

}  // namespace
}  // namespace cadenza
