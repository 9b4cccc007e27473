// A model's size from its config alone, before anything is allocated: the parameter count (the
// checkpoint's size follows from it) and an upper estimate of the memory a training run needs,
// so that a run that cannot fit is refused before it starts instead of ending as an OOM kill.
//
// Parameters (P = pitches, H = model.hidden_size, L = model.layers, E = encoder width,
// D = encoder directions, K = D * E the encoder state width):
//   LSTM of L layers, input I, hidden h, d directions:
//     sum over layers of d * (4h * I_l + 4h * h + 4h), I_0 = I, I_l = d * h after
//   lm        LSTM(P, H, L, 1) + output H * P + P
//   seq2seq   encoder LSTM(P, E, L, D); a bridge 2 * (K * H + H) when K != H;
//             decoder LSTM(P + (Bahdanau ? K : 0), H, L, 1); output H * P + P; with attention,
//             the score (dot: none; general: W_a K * H; additive: W H * H, U K * H, v H) and the
//             combine layer (K + H) * H.
//
// Memory (an upper estimate in bytes, checked against a measured peak in the tests):
//   parameters  4 bytes * count * copies, copies = value, gradient, the optimiser's slots (adam
//               and adamw 2, sgd and rmsprop 1), two layouts oneDNN reorders the LSTM weights
//               into, and twice the value and the slots while a checkpoint is written (the
//               snapshot, and the file's image in memory: core/hdf5.hpp);
//   activations 4 bytes * (a training batch or an evaluation batch, whichever is larger):
//               per LSTM layer and direction 16 floats per unit and frame (oneDNN's workspace of
//               gates and states, the layer's output and its gradient, dropout masks), 4 floats
//               per key and frame for the output (logits, gradient, targets, probabilities),
//               and with attention 3 floats per score and 6 per context and combine unit;
//   fixed       the dataset's cells, plus 256 MiB for the libraries, JIT code and the loader.
#pragma once

#include <cstdint>

#include "config/experiment_config.hpp"

namespace cadenza {

// Parameters of the model `config` builds for `pitches` keys.
int64_t parameter_count(const config::ModelConfig& config, int pitches);

struct FrameCounts {
  int64_t longest_train = 0;  // frames of the longest training sample the loader can build
  int64_t longest_eval = 0;   // frames of the longest valid or test sequence
  int64_t dataset_cells = 0;  // bytes of piano-roll cells held in memory
};

struct MemoryEstimate {
  int64_t parameters = 0;   // bytes for values, gradients, optimiser state and copies
  int64_t activations = 0;  // bytes for the largest batch, training or evaluation
  int64_t fixed = 0;        // bytes for the dataset and the libraries
  int64_t total() const { return parameters + activations + fixed; }
};

MemoryEstimate estimate_training_memory(const config::ExperimentConfig& config, int pitches,
                                        const FrameCounts& frames);

// Bytes of one checkpoint: the values and the optimiser's slots, 4 bytes each, plus 1 MiB for
// attributes and metrics rows.
int64_t checkpoint_bytes(const config::ExperimentConfig& config, int pitches);

}  // namespace cadenza
