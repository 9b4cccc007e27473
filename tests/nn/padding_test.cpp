// Padding: an encoder-decoder chain (LSTM encoder, LSTM decoder, general attention with a key
// mask, combine, affine, Bernoulli loss with a frame mask) run on a padded batch gives the same
// loss and the same gradients as the same sequences run one by one without padding, and padded
// frames get exactly zero gradient. Padding sits at the END of each sequence (the RNN primitive
// has no per-sequence lengths, docs/onednn.md trap 7). Batch size changes the GEMM blocking, so
// "the same" means equal to float rounding (1e-5 relative), not bit for bit.
#include <gtest/gtest.h>

#include "nn/attention.hpp"
#include "nn/linear.hpp"
#include "nn/losses.hpp"
#include "nn/lstm.hpp"
#include "nn_test_util.hpp"

namespace cadenza {
namespace {

using testing::all_close;
using testing::random_tensor;
using testing::to_double;

constexpr int64_t I = 4, H = 6, C = 5, K = 3;

struct Chain {
  Chain()
      : encoder({I, H, 1, false}),
        decoder({I, H, 1, false}),
        attention({AttentionScore::general, H, H, 0}),
        combine(H, H, C),
        output(C, K, true) {
    encoder.init(1);
    decoder.init(2);
    attention.init(3, 1);
    combine.init(3, 2);
    output.init(3, 3);
  }
  std::vector<Parameter*> parameters() {
    std::vector<Parameter*> all;
    for (Parameter* p : encoder.parameters())
      all.push_back(p);
    for (Parameter* p : decoder.parameters())
      all.push_back(p);
    for (Parameter* p : attention.parameters())
      all.push_back(p);
    for (Parameter* p : combine.parameters())
      all.push_back(p);
    for (Parameter* p : output.parameters())
      all.push_back(p);
    return all;
  }

  // src [Ts, B, I], key_mask [B, Ts], tgt [Tt, B, I], targets [Tt, B, K], frame_mask [Tt, B]
  double run(const Tensor& src, const Tensor& key_mask, const Tensor& tgt, const Tensor& targets,
             const Tensor& frame_mask, Tensor& d_src, Tensor& d_tgt) {
    Tensor keys, hT, cT, queries, context, weights, combined, logits;
    LstmTape enc_tape, dec_tape;
    AttentionKeys prepared;
    AttentionTape att_tape;
    AttentionCombineTape comb_tape;
    encoder.forward(src, Tensor(), Tensor(), keys, hT, cT, enc_tape);
    decoder.forward(tgt, Tensor(), Tensor(), queries, hT, cT, dec_tape);
    attention.prepare_keys(keys, key_mask, prepared);
    attention.attend(queries, prepared, context, weights, att_tape);
    combine.forward(context, queries, combined, comb_tape);
    output.forward(combined, logits);
    Tensor d_logits, d_combined, d_context, d_queries, d_queries_att, d_keys, dh, dc;
    const LossValue loss = SigmoidBceLoss().compute(logits, targets, frame_mask, d_logits);
    output.backward(combined, d_logits, d_combined);
    combine.backward(comb_tape, d_combined, d_context, d_queries);
    attention.attend_backward(att_tape, prepared, d_context, d_queries_att);
    attention.keys_backward(prepared, d_keys);
    for (int64_t i = 0; i < d_queries.numel(); ++i)
      d_queries[i] += d_queries_att[i];
    decoder.backward(dec_tape, d_queries, Tensor(), Tensor(), d_tgt, dh, dc);
    encoder.backward(enc_tape, d_keys, Tensor(), Tensor(), d_src, dh, dc);
    return loss.total;
  }

  Lstm encoder, decoder;
  Attention attention;
  AttentionCombine combine;
  Linear output;
};

// Rows [0, length) of sequence b of a [T, B, W] tensor as a [length, 1, W] tensor.
Tensor sequence(const Tensor& batch, int64_t b, int64_t length) {
  const int64_t B = batch.dim(1), W = batch.dim(2);
  Tensor one({length, 1, W});
  for (int64_t t = 0; t < length; ++t) {
    std::copy_n(batch.data() + (t * B + b) * W, W, one.data() + t * W);
  }
  return one;
}

TEST(NnPadding, PaddedBatchEqualsSequencesOneByOne) {
  const std::vector<int64_t> src_lengths{5, 3, 4}, tgt_lengths{4, 2, 3};
  const int64_t B = 3, Ts = 5, Tt = 4;
  Tensor src = random_tensor({Ts, B, I}, 1), tgt = random_tensor({Tt, B, I}, 2);
  Tensor targets = random_tensor({Tt, B, K}, 3);
  for (float& v : targets.values())
    v = v > 0.0f ? 1.0f : 0.0f;
  Tensor key_mask({B, Ts}), frame_mask({Tt, B});
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t t = 0; t < Ts; ++t)
      key_mask[b * Ts + t] = t < src_lengths[b] ? 1.0f : 0.0f;
    for (int64_t t = 0; t < Tt; ++t)
      frame_mask[t * B + b] = t < tgt_lengths[b] ? 1.0f : 0.0f;
  }
  // Padding holds garbage: it must not matter.
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t t = src_lengths[b]; t < Ts; ++t) {
      for (int64_t i = 0; i < I; ++i)
        src[(t * B + b) * I + i] = 1e3f;
    }
  }

  Chain chain;
  zero_grads(chain.parameters());
  Tensor d_src, d_tgt;
  const double padded_loss = chain.run(src, key_mask, tgt, targets, frame_mask, d_src, d_tgt);
  std::vector<std::vector<double>> padded_grads;
  for (Parameter* p : chain.parameters())
    padded_grads.push_back(to_double(p->grad));

  zero_grads(chain.parameters());
  double loss_sum = 0.0;
  for (int64_t b = 0; b < B; ++b) {
    Tensor one_key_mask({1, src_lengths[b]}), one_frame_mask({tgt_lengths[b], 1});
    one_key_mask.fill(1.0f);
    one_frame_mask.fill(1.0f);
    Tensor one_d_src, one_d_tgt;
    loss_sum +=
        chain.run(sequence(src, b, src_lengths[b]), one_key_mask, sequence(tgt, b, tgt_lengths[b]),
                  sequence(targets, b, tgt_lengths[b]), one_frame_mask, one_d_src, one_d_tgt);
    EXPECT_TRUE(all_close(sequence(d_src, b, src_lengths[b]), to_double(one_d_src), 1e-5, 1e-7))
        << "d src of sequence " << b;
    EXPECT_TRUE(all_close(sequence(d_tgt, b, tgt_lengths[b]), to_double(one_d_tgt), 1e-5, 1e-7))
        << "d tgt of sequence " << b;
    for (int64_t t = src_lengths[b]; t < Ts; ++t) {
      for (int64_t i = 0; i < I; ++i)
        EXPECT_EQ(d_src[(t * B + b) * I + i], 0.0f);
    }
    for (int64_t t = tgt_lengths[b]; t < Tt; ++t) {
      for (int64_t i = 0; i < I; ++i)
        EXPECT_EQ(d_tgt[(t * B + b) * I + i], 0.0f);
    }
  }
  EXPECT_NEAR(padded_loss, loss_sum, 1e-6 * std::abs(loss_sum));
  const auto params = chain.parameters();
  for (std::size_t i = 0; i < params.size(); ++i) {
    EXPECT_TRUE(all_close(params[i]->grad, padded_grads[i], 1e-5, 1e-7)) << params[i]->name;
  }
}

}  // namespace
}  // namespace cadenza
