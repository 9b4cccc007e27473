#include "generate/beam_search.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.hpp"

namespace cadenza {
namespace {

// A kept hypothesis: its generated events, their summed log-probability and, for an attention
// model, the attention of the step that predicted each of them.
struct Hypothesis {
  std::vector<int64_t> events;
  double log_probability = 0.0;
  std::vector<AttentionRow> attention;
};

// The histories of `hypotheses` after `primer`, with their first `generated` events:
// [Tp + generated, H, V] one-hot frames.
Tensor histories(const PianoRoll& primer, const std::vector<Hypothesis>& hypotheses,
                 int64_t generated) {
  const int64_t classes = primer.pitches;
  const int64_t count = static_cast<int64_t>(hypotheses.size());
  Tensor history({primer.frames + generated, count, classes});
  for (int64_t h = 0; h < count; ++h) {
    for (int64_t t = 0; t < primer.frames; ++t) {
      for (int64_t c = 0; c < classes; ++c)
        history[(t * count + h) * classes + c] = primer.at(t, static_cast<int>(c));
    }
    for (int64_t t = 0; t < generated; ++t) {
      const int64_t event = hypotheses[static_cast<size_t>(h)].events[static_cast<size_t>(t)];
      history[((primer.frames + t) * count + h) * classes + event] = 1.0f;
    }
  }
  return history;
}

// Generated event `index` of every hypothesis: [H, V] one-hot.
Tensor events_at(const std::vector<Hypothesis>& hypotheses, int64_t index, int64_t classes) {
  Tensor frame({static_cast<int64_t>(hypotheses.size()), classes});
  for (size_t h = 0; h < hypotheses.size(); ++h)
    frame[static_cast<int64_t>(h) * classes + hypotheses[h].events[static_cast<size_t>(index)]] =
        1.0f;
  return frame;
}

// logits [H, V] of the next event of every hypothesis, computed as sampling computes them: the
// model begins at the start of the generation segment the step is in (every step for an lm;
// every data.target_frames steps after the primer for a seq2seq model) and continues from there.
void next_logits(SequenceModel& model, const PianoRoll& primer, const std::vector<Hypothesis>& kept,
                 int64_t step, Tensor& logits) {
  const int64_t period = model.generation_segment_frames();
  const int64_t begun = period > 0 ? step / period * period : step;
  model.begin_generation(histories(primer, kept, begun), logits);
  for (int64_t index = begun; index < step; ++index)
    model.continue_generation(events_at(kept, index, primer.pitches), logits);
}

// log softmax of row [classes], in double.
std::vector<double> log_softmax(const float* row, int64_t classes) {
  const double top = *std::max_element(row, row + classes);
  double total = 0.0;
  for (int64_t c = 0; c < classes; ++c)
    total += std::exp(static_cast<double>(row[c]) - top);
  const double log_total = top + std::log(total);
  std::vector<double> result(static_cast<size_t>(classes));
  for (int64_t c = 0; c < classes; ++c)
    result[static_cast<size_t>(c)] = static_cast<double>(row[c]) - log_total;
  return result;
}

}  // namespace

std::vector<BeamHypothesis> beam_search(SequenceModel& model, const PianoRoll& primer,
                                        int64_t frames, int beam, int keep) {
  if (model.frame_output() != FrameOutput::kCategorical || primer.frames < 1 || frames < 1 ||
      beam < 1 || keep < 1 || keep > beam) {
    throw Error(fmt::format(
        "beam_search: needs a token model, a primer of at least 1 frame (has {}), frames >= 1 "
        "(got {}) and 1 <= keep ({}) <= beam ({})",
        primer.frames, frames, keep, beam));
  }
  const int64_t classes = primer.pitches;
  std::vector<Hypothesis> kept(1);
  for (int64_t step = 0; step < frames; ++step) {
    Tensor logits;
    next_logits(model, primer, kept, step, logits);
    // weights [kept, S]: what each kept hypothesis attended to when predicting this step.
    const GenerationAttention attention = model.generation_attention();
    // Candidates (hypothesis, class), best first; ties to the earlier hypothesis, then the lower
    // class: the order of the index h * classes + c.
    std::vector<double> scores;
    scores.reserve(kept.size() * static_cast<size_t>(classes));
    for (size_t h = 0; h < kept.size(); ++h) {
      const std::vector<double> log_p =
          log_softmax(logits.data() + static_cast<int64_t>(h) * classes, classes);
      for (const double value : log_p)
        scores.push_back(kept[h].log_probability + value);
    }
    std::vector<int64_t> order(scores.size());
    std::iota(order.begin(), order.end(), int64_t{0});
    const size_t survivors = std::min(order.size(), static_cast<size_t>(beam));
    std::partial_sort(order.begin(), order.begin() + static_cast<int64_t>(survivors), order.end(),
                      [&](int64_t a, int64_t b) {
                        const double left = scores[static_cast<size_t>(a)];
                        const double right = scores[static_cast<size_t>(b)];
                        return left != right ? left > right : a < b;
                      });
    std::vector<Hypothesis> next;
    for (size_t i = 0; i < survivors; ++i) {
      const int64_t candidate = order[i];
      const int64_t parent = candidate / classes;
      Hypothesis extended = kept[static_cast<size_t>(parent)];
      extended.events.push_back(candidate % classes);
      extended.log_probability = scores[static_cast<size_t>(candidate)];
      if (!attention.weights.empty()) {
        const int64_t keys = attention.weights.dim(1);
        const float* weights = attention.weights.data() + parent * keys;
        extended.attention.push_back({primer.frames + step, attention.first_frame,
                                      std::vector<float>(weights, weights + keys)});
      }
      next.push_back(std::move(extended));
    }
    kept = std::move(next);
  }

  std::vector<BeamHypothesis> result;
  for (int i = 0; i < keep && i < static_cast<int>(kept.size()); ++i) {
    const Hypothesis& hypothesis = kept[static_cast<size_t>(i)];
    BeamHypothesis out;
    out.sample.primer_frames = primer.frames;
    out.sample.roll = primer;
    out.sample.roll.frames = primer.frames + frames;
    out.sample.roll.cells.resize(static_cast<size_t>(out.sample.roll.frames * classes), 0);
    for (int64_t t = 0; t < frames; ++t)
      out.sample.roll.at(primer.frames + t, static_cast<int>(hypothesis.events[t])) = 1;
    out.sample.attention = hypothesis.attention;
    out.log_probability = hypothesis.log_probability;
    out.score = hypothesis.log_probability / static_cast<double>(frames);
    result.push_back(std::move(out));
  }
  return result;
}

}  // namespace cadenza
