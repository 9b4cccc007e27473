// Generating music with a trained model: every sample continues the same primer, all samples
// advance together as one batch (the batch dimension of the model's step-wise interface,
// models/model.hpp), and each frame is drawn from the model's logits by generate/sampler.hpp.
#pragma once

#include <cstdint>
#include <vector>

#include "data/piano_roll.hpp"
#include "generate/sampler.hpp"
#include "models/model.hpp"

namespace cadenza {

struct GenerationOptions {
  int64_t frames = 64;  // frames generated after the primer
  int samples = 1;      // pieces generated together
  SamplingOptions sampling;
};

// The attention of the decoder step that predicted frame `frame`: weights over the encoder
// states of frames [first_key_frame, first_key_frame + weights.size()).
struct AttentionRow {
  int64_t frame = 0;
  int64_t first_key_frame = 0;
  std::vector<float> weights;
};

struct GeneratedSample {
  PianoRoll roll;  // the primer's frames, then the generated ones
  // A token model's piece as events (primer included), written to MIDI note by note; empty for
  // piano rolls (generate/session.hpp sets it).
  std::vector<int16_t> events;
  int64_t primer_frames = 0;
  std::vector<AttentionRow> attention;  // one row per generated frame; empty without attention
};

// primer [Tp >= 1 frames, P = the model's keys] -> options.samples pieces of Tp + frames frames.
// Sample s draws its frames from the streams of (sampling.seed, s, frame index in the piece).
// Throws Error when the primer is empty or options are out of range.
std::vector<GeneratedSample> generate_samples(SequenceModel& model, const PianoRoll& primer,
                                              const GenerationOptions& options);

// The generated frames of each sample, without its primer (what music statistics compare).
std::vector<PianoRoll> generated_parts(const std::vector<GeneratedSample>& samples);

}  // namespace cadenza
