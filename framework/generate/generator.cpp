#include "generate/generator.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.hpp"

namespace cadenza {

std::vector<GeneratedSample> generate_samples(SequenceModel& model, const PianoRoll& primer,
                                              const GenerationOptions& options) {
  if (primer.frames < 1 || options.frames < 1 || options.samples < 1) {
    throw Error(fmt::format(
        "generate_samples: primer of {} frames, {} frames to generate and {} samples; each must "
        "be at least 1",
        primer.frames, options.frames, options.samples));
  }
  const int64_t batch = options.samples;
  const int64_t pitches = primer.pitches;
  const int64_t total = primer.frames + options.frames;

  std::vector<GeneratedSample> samples(static_cast<size_t>(batch));
  for (GeneratedSample& sample : samples) {
    sample.primer_frames = primer.frames;
    sample.roll.frames = total;
    sample.roll.pitches = primer.pitches;
    sample.roll.lowest_pitch = primer.lowest_pitch;
    sample.roll.cells.assign(static_cast<size_t>(total * pitches), 0);
    std::copy(primer.cells.begin(), primer.cells.end(), sample.roll.cells.begin());
  }

  // The primer, once per sample: history [Tp, B, P].
  Tensor history({primer.frames, batch, pitches});
  for (int64_t t = 0; t < primer.frames; ++t) {
    for (int64_t b = 0; b < batch; ++b) {
      std::transform(primer.cells.begin() + t * pitches, primer.cells.begin() + (t + 1) * pitches,
                     history.data() + (t * batch + b) * pitches,
                     [](uint8_t cell) { return static_cast<float>(cell); });
    }
  }

  Tensor logits, frame;
  model.begin_generation(history, logits);
  for (int64_t t = primer.frames; t < total; ++t) {
    const GenerationAttention attention = model.generation_attention();
    if (model.frame_output() == FrameOutput::kCategorical) {
      sample_events(logits, options.sampling, 0, t, frame);
    } else {
      sample_frames(logits, options.sampling, 0, t, frame);
    }
    for (int64_t b = 0; b < batch; ++b) {
      GeneratedSample& sample = samples[static_cast<size_t>(b)];
      std::transform(frame.data() + b * pitches, frame.data() + (b + 1) * pitches,
                     sample.roll.cells.begin() + t * pitches,
                     [](float cell) { return static_cast<uint8_t>(cell != 0.0f); });
      if (attention.weights.empty()) continue;
      const int64_t keys = attention.weights.dim(1);
      const float* weights = attention.weights.data() + b * keys;
      sample.attention.push_back(
          {t, attention.first_frame, std::vector<float>(weights, weights + keys)});
    }
    if (t + 1 < total) model.continue_generation(frame, logits);
  }
  return samples;
}

std::vector<PianoRoll> generated_parts(const std::vector<GeneratedSample>& samples) {
  std::vector<PianoRoll> parts;
  for (const GeneratedSample& sample : samples) {
    PianoRoll part = sample.roll;
    part.frames -= sample.primer_frames;
    part.cells.erase(part.cells.begin(), part.cells.begin() + sample.primer_frames * part.pitches);
    parts.push_back(std::move(part));
  }
  return parts;
}

}  // namespace cadenza
