// Turning a model's logits into the next frame of every sample. Piano rolls (sample_frames): one
// Bernoulli draw per key with p = sigmoid(logit / temperature), then the optional polyphony
// limits. Melody tokens (sample_events): one class from softmax(logits / temperature), optionally
// restricted to the top_k most probable classes and then to the smallest set of most probable
// classes whose probability reaches top_p (nucleus sampling, Holtzman et al. 2020), renormalised.
//
// Determinism: the uniform number compared with p for (sample s, frame t, key k) is word k of
// the Philox4x32-10 stream keyed by derive_key(seed, kSamplingTag, s, t) (core/rng.hpp). It
// depends on nothing else: not on the batch a sample sits in, not on threads or timing.
//
// sample_events uses word 0 of the same stream: classes are ordered by decreasing probability (the
// lower id first among equals), and the class is the first whose cumulative probability exceeds
// u times the kept total.
//
// Limits, applied after the draws: with max_polyphony = M > 0 a frame keeps only its M most
// probable drawn keys; with min_notes = N > 0 a frame with fewer than N drawn keys gains the most
// probable undrawn ones until it has N. Ties go to the lower key.
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor.hpp"

namespace cadenza {

// Purpose tag of the sampling streams (distinct from initialisation, dropout and the loader).
inline constexpr uint64_t kSamplingTag = 0x73616D706C65ull;  // "sample"

struct SamplingOptions {
  uint64_t seed = 1;
  double temperature = 1.0;  // > 0; below 1 sharpens, above 1 flattens towards p = 0.5
  int max_polyphony = 0;     // 0 = no limit
  int min_notes = 0;         // 0 = no minimum
  int top_k = 0;             // tokens: 0 = every class
  double top_p = 1.0;        // tokens: in (0, 1]; 1 = every class
};

// logits [B, P] of frame `frame` of samples first_sample .. first_sample + B - 1 ->
// frames [B, P] of 0/1. Throws Error when the options are out of range (temperature <= 0,
// a limit below 0 or above P, min_notes > max_polyphony).
void sample_frames(const Tensor& logits, const SamplingOptions& options, int64_t first_sample,
                   int64_t frame, Tensor& frames);

// logits [B, V] of event `frame` of samples first_sample .. first_sample + B - 1 -> one-hot
// frames [B, V]. Throws Error when temperature <= 0, top_k is outside 0..V or top_p outside
// (0, 1].
void sample_events(const Tensor& logits, const SamplingOptions& options, int64_t first_sample,
                   int64_t frame, Tensor& frames);

// The distribution sample_events draws from for one row of logits [V]: the kept classes'
// probabilities, 0 for the others (what the tests check the draws against).
std::vector<double> event_distribution(const float* logits, int64_t classes,
                                       const SamplingOptions& options);

}  // namespace cadenza
