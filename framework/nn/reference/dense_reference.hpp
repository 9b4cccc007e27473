// Naive double-precision affine, attention and loss references, written from the textbook
// formulas; used only by tests as ground truth (see attention.hpp and losses.hpp for the
// definitions they mirror). Layouts match the oneDNN layers.
#pragma once

#include <cstdint>
#include <vector>

namespace cadenza::reference {

// x [N, in], w [out, in], b [out] or empty -> [N, out]
std::vector<double> linear_forward(const std::vector<double>& x, const std::vector<double>& w,
                                   const std::vector<double>& b, int64_t rows, int64_t in,
                                   int64_t out);

enum class Score { dot, general, additive };

struct AttentionWeights {
  std::vector<double> w_a;  // general: [Hq, Hk]
  std::vector<double> w;    // additive: [A, Hq]
  std::vector<double> u;    // additive: [A, Hk]
  std::vector<double> v;    // additive: [A]
};

struct AttentionResult {
  std::vector<double> context;  // [Tq, B, Hk]
  std::vector<double> weights;  // [Tq, B, S]
};

// queries [Tq, B, Hq], keys [S, B, Hk], mask [B, S]
AttentionResult attention_forward(Score score, const std::vector<double>& queries,
                                  const std::vector<double>& keys, const std::vector<double>& mask,
                                  const AttentionWeights& weights, int64_t steps, int64_t batch,
                                  int64_t length, int64_t query_size, int64_t key_size,
                                  int64_t additive_size);

// tanh(W_c [c; h]): context [N, Hk], queries [N, Hq], w_c [out, Hk + Hq] -> [N, out]
std::vector<double> combine_forward(const std::vector<double>& context,
                                    const std::vector<double>& queries,
                                    const std::vector<double>& w_c, int64_t rows, int64_t key_size,
                                    int64_t query_size, int64_t out);

// Sum over frames with mask 1 and keys of -[y log s(x) + (1 - y) log(1 - s(x))] (computed
// stably). logits, targets [F, K], mask [F].
double sigmoid_bce(const std::vector<double>& logits, const std::vector<double>& targets,
                   const std::vector<double>& mask, int64_t keys);

// Sum over frames with mask 1 of -log softmax(x)[target]. logits [F, V].
double softmax_cross_entropy(const std::vector<double>& logits, const std::vector<int32_t>& targets,
                             const std::vector<double>& mask, int64_t classes);

}  // namespace cadenza::reference
