// What one training step of a model variant costs, derived from its config alone (no dataset):
// the synthetic batch `cadenza bench` times it on and the FLOPs of a step on that batch.
#pragma once

#include "config/experiment_config.hpp"
#include "data/loader.hpp"

namespace cadenza {

// Pitches of a synthetic batch: the 88 piano keys of the piano-roll datasets.
inline constexpr int kSyntheticPitches = 88;

// One random batch shaped like the loader's for this config, keys on with probability 4/88
// (JSB's density), every mask cell 1, keyed by config.seed:
//   lm       inputs [data.window, data.batch_size, 88]
//   seq2seq  inputs [data.context_frames, data.batch_size, 88],
//            targets [data.target_frames, data.batch_size, 88]
Batch synthetic_batch(const config::ExperimentConfig& config);

// FLOPs of one training step on synthetic_batch(config): multiply-adds counted as 2 FLOPs each,
// forward + backward = 3 x forward: every recurrent layer 2*G*H(I+H) per frame and direction (G
// = 4 gate blocks for the LSTM, 3 for the GRU, 1 for the plain RNN), the
// output layer 2*H*P per frame, and for attention the scores and the context, 2 * 2 * S * Hk per
// decoder frame, and the combine layer 2*(Hk+H)*H per decoder frame. An lm scores window - 1
// frames per sequence.
double training_step_flops(const config::ExperimentConfig& config);

}  // namespace cadenza
