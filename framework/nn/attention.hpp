// Attention of decoder queries over encoder states (keys = values), with a key padding mask.
//   dot      (Luong):    score(h, s) = h . s                  (needs query_size == key_size)
//   general  (Luong):    score(h, s) = h . (W_a s)            W_a [Hq, Hk]
//   additive (Bahdanau): score(h, s) = v . tanh(W h + U s)    W [A, Hq], U [A, Hk], v [A]
// weights = softmax over the S keys with padded keys at exactly 0; context = weights x keys.
//
// Usage: prepare_keys() once per batch of encoder outputs (projects the keys once), then
// attend() either on all T decoder steps at once (Luong, no feedback) or once per step with
// Tq = 1 (Bahdanau input feeding). Backward mirrors it: attend_backward() for each attend() call
// (any order), then keys_backward() once, which also adds the key projection's gradients.
// Parameter gradients accumulate (nn/parameter.hpp).
//
// Layouts: queries and contexts time-major [Tq, B, H]; keys [S, B, Hk] time-major as the encoder
// LSTM writes them; key_mask [B, S] (1 = real key, 0 = padding); weights [Tq, B, S].
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor.hpp"
#include "nn/concat.hpp"
#include "nn/eltwise.hpp"
#include "nn/linear.hpp"
#include "nn/parameter.hpp"
#include "nn/primitive_cache.hpp"

namespace cadenza {

enum class AttentionScore { dot, general, additive };

struct AttentionOptions {
  AttentionScore score = AttentionScore::dot;
  int64_t query_size = 0;     // Hq: decoder state width
  int64_t key_size = 0;       // Hk: encoder state width (D*H for a bidirectional encoder)
  int64_t additive_size = 0;  // A: hidden width of the additive score (additive only)
};

// The encoder side, prepared once per batch and shared by every attend() call.
struct AttentionKeys {
  Tensor keys;            // [B, S, Hk] batch-major copy of the encoder states
  Tensor projected;       // general [B, S, Hq] = keys W_a^T; additive [B, S, A] = keys U^T
  Tensor mask;            // [B, 1, S]
  Tensor mask_bias;       // [B, 1, S]: 0 for real keys, -inf for padding
  Tensor diff_keys;       // [B, S, Hk], accumulated by attend_backward()
  Tensor diff_projected;  // like projected, accumulated by attend_backward()
};

// What one attend() call keeps for its backward.
struct AttentionTape {
  Tensor queries;           // [Tq, B, Hq]
  Tensor weights;           // [B, Tq, S]
  Tensor query_projection;  // additive: [Tq, B, A] = queries W^T
  Tensor hidden;            // additive: [Tq, B, S, A] = tanh(W h + U s)
};

class Attention {
 public:
  explicit Attention(const AttentionOptions& options);

  const AttentionOptions& options() const { return options_; }
  // dot: none; general: "W_a"; additive: "W", "U", "v".
  std::vector<Parameter*> parameters();
  void init(uint64_t seed, uint64_t tag);

  // keys [S, B, Hk], key_mask [B, S] -> prepared. Throws InputError when a mask value is not 0/1
  // or a sequence has no real key.
  void prepare_keys(const Tensor& keys, const Tensor& key_mask, AttentionKeys& prepared);
  // queries [Tq, B, Hq] -> context [Tq, B, Hk], weights [Tq, B, S].
  void attend(const Tensor& queries, const AttentionKeys& keys, Tensor& context, Tensor& weights,
              AttentionTape& tape);
  // diff_context [Tq, B, Hk] -> diff_queries [Tq, B, Hq]; key gradients accumulate in `keys`.
  void attend_backward(const AttentionTape& tape, AttentionKeys& keys, const Tensor& diff_context,
                       Tensor& diff_queries);
  // -> diff_keys [S, B, Hk] from everything attend_backward() accumulated.
  void keys_backward(AttentionKeys& keys, Tensor& diff_keys);

 private:
  AttentionOptions options_;
  Linear query_projection_;  // additive W
  Linear key_projection_;    // general W_a, additive U
  Parameter v_;              // additive v [A]
  Tensor scores_, diff_weights_, diff_scores_, diff_hidden_, diff_pre_, diff_scores_step_;
  Tensor diff_query_projection_;
  PrimitiveCache primitives_;
};

// Luong's attentional hidden state h~ = tanh(W_c [c; h]), W_c [out, Hk + Hq] without bias.
struct AttentionCombineTape {
  Tensor joined;  // [Tq, B, Hk + Hq]
  Tensor output;  // [Tq, B, out]
};

class AttentionCombine {
 public:
  AttentionCombine(int64_t context_size, int64_t query_size, int64_t output_size);

  // "W_c" [out, Hk + Hq]
  std::vector<Parameter*> parameters() { return linear_.parameters(); }
  void init(uint64_t seed, uint64_t tag) { linear_.init(seed, tag); }

  // context [Tq, B, Hk], queries [Tq, B, Hq] -> output [Tq, B, out]
  void forward(const Tensor& context, const Tensor& queries, Tensor& output,
               AttentionCombineTape& tape);
  // diff_output [Tq, B, out] -> diff_context [Tq, B, Hk], diff_queries [Tq, B, Hq]
  void backward(const AttentionCombineTape& tape, const Tensor& diff_output, Tensor& diff_context,
                Tensor& diff_queries);

 private:
  int64_t context_size_, query_size_;
  Concat concat_;
  Linear linear_;
  Eltwise tanh_{Activation::tanh};
};

}  // namespace cadenza
