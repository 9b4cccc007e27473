// Turning a model's logits into the next frame of every sample: one Bernoulli draw per key with
// p = sigmoid(logit / temperature), then the optional polyphony limits.
//
// Determinism: the uniform number compared with p for (sample s, frame t, key k) is word k of
// the Philox4x32-10 stream keyed by derive_key(seed, kSamplingTag, s, t) (core/rng.hpp). It
// depends on nothing else: not on the batch a sample sits in, not on threads or timing.
//
// Limits, applied after the draws: with max_polyphony = M > 0 a frame keeps only its M most
// probable drawn keys; with min_notes = N > 0 a frame with fewer than N drawn keys gains the most
// probable undrawn ones until it has N. Ties go to the lower key.
#pragma once

#include <cstdint>

#include "core/tensor.hpp"

namespace cadenza {

// Purpose tag of the sampling streams (distinct from initialisation, dropout and the loader).
inline constexpr uint64_t kSamplingTag = 0x73616D706C65ull;  // "sample"

struct SamplingOptions {
  uint64_t seed = 1;
  double temperature = 1.0;  // > 0; below 1 sharpens, above 1 flattens towards p = 0.5
  int max_polyphony = 0;     // 0 = no limit
  int min_notes = 0;         // 0 = no minimum
};

// logits [B, P] of frame `frame` of samples first_sample .. first_sample + B - 1 ->
// frames [B, P] of 0/1. Throws Error when the options are out of range (temperature <= 0,
// a limit below 0 or above P, min_notes > max_polyphony).
void sample_frames(const Tensor& logits, const SamplingOptions& options, int64_t first_sample,
                   int64_t frame, Tensor& frames);

}  // namespace cadenza
