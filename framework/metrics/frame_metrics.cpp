#include "metrics/frame_metrics.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/error.hpp"
#include "core/parallel_for.hpp"
#include "data/melody.hpp"

namespace cadenza {
namespace {

// Frames shorter than this are scored on one thread.
constexpr int64_t kParallelFrames = 64;

// Counts of one scored frame.
struct FrameScore {
  double nll = 0.0;
  int64_t true_positives = 0;
  int64_t false_positives = 0;
  int64_t false_negatives = 0;
  int32_t target_class = -1;  // categorical only; -1 when the target row is not one-hot
  bool correct = false;
};

// x, y [keys] -> the frame's nll summed over keys and its confusion counts.
FrameScore score_frame(const float* x, const float* y, int64_t keys) {
  FrameScore score;
  for (int64_t k = 0; k < keys; ++k) {
    const double xk = x[k], yk = y[k];
    score.nll += std::max(xk, 0.0) - xk * yk + std::log1p(std::exp(-std::abs(xk)));
    const bool predicted = x[k] >= 0.0f;
    const bool actual = y[k] >= 0.5f;
    score.true_positives += predicted && actual;
    score.false_positives += predicted && !actual;
    score.false_negatives += !predicted && actual;
  }
  return score;
}

// x [classes], y one-hot [classes] -> the event's nll, its target class and whether the most
// probable class (the lowest on a tie) is that class.
FrameScore score_event(const float* x, const float* y, int64_t classes) {
  FrameScore score;
  score.target_class = one_hot_class(y, classes);
  if (score.target_class < 0) return score;
  const int64_t best = std::max_element(x, x + classes) - x;
  const double top = x[best];
  double total = 0.0;
  for (int64_t c = 0; c < classes; ++c)
    total += std::exp(static_cast<double>(x[c]) - top);
  score.nll = top + std::log(total) - static_cast<double>(x[score.target_class]);
  score.correct = best == score.target_class;
  return score;
}

double ratio(int64_t numerator, int64_t denominator) {
  return denominator == 0 ? 0.0 : static_cast<double>(numerator) / static_cast<double>(denominator);
}

}  // namespace

void FrameMetrics::add(const Tensor& logits, const Tensor& targets, const Tensor& mask) {
  if (logits.rank() != 3 || targets.dims() != logits.dims() ||
      mask.dims() != std::vector<int64_t>{logits.dim(0), logits.dim(1)}) {
    throw Error(fmt::format(
        "frame metrics: logits [{}] and targets [{}] must be [T, B, P] and mask [{}] [T, B]",
        fmt::join(logits.dims(), ", "), fmt::join(targets.dims(), ", "),
        fmt::join(mask.dims(), ", ")));
  }
  for (float m : mask.values()) {
    if (m != 0.0f && m != 1.0f) {
      throw InputError(fmt::format("frame metrics: frame mask value {} is neither 0 nor 1", m));
    }
  }
  const int64_t keys = logits.dim(2);
  const int64_t frames = mask.numel();
  const float* x = logits.data();
  const bool categorical = output_ == FrameOutput::kCategorical;
  std::vector<FrameScore> scores(static_cast<std::size_t>(frames));
  parallel_for(frames, frames >= kParallelFrames, [&](int64_t f) {
    if (mask[f] == 0.0f) return;
    const float* y = targets.data() + f * keys;
    scores[static_cast<std::size_t>(f)] =
        categorical ? score_event(x + f * keys, y, keys) : score_frame(x + f * keys, y, keys);
  });
  double batch_nll = 0.0;
  for (int64_t f = 0; f < frames; ++f) {
    if (mask[f] == 0.0f) continue;
    const FrameScore& score = scores[static_cast<std::size_t>(f)];
    if (categorical && score.target_class < 0) {
      throw InputError(fmt::format(
          "frame metrics: the target of scored frame {} is not one-hot over {} classes", f, keys));
    }
    ++totals_.frames;
    batch_nll += score.nll;
    totals_.true_positives += score.true_positives;
    totals_.false_positives += score.false_positives;
    totals_.false_negatives += score.false_negatives;
    totals_.correct += score.correct;
    const bool event = categorical && score.target_class != kNoEvent;
    totals_.event_frames += event;
    totals_.event_correct += event && score.correct;
  }
  totals_.nll_sum += batch_nll;
}

FrameMetrics FrameMetrics::from_totals(FrameOutput output, const FrameTotals& totals) {
  FrameMetrics metrics(output);
  metrics.totals_ = totals;
  return metrics;
}

void FrameMetrics::merge(const FrameMetrics& other) {
  totals_.frames += other.totals_.frames;
  totals_.nll_sum += other.totals_.nll_sum;
  totals_.true_positives += other.totals_.true_positives;
  totals_.false_positives += other.totals_.false_positives;
  totals_.false_negatives += other.totals_.false_negatives;
  totals_.correct += other.totals_.correct;
  totals_.event_frames += other.totals_.event_frames;
  totals_.event_correct += other.totals_.event_correct;
}

double FrameMetrics::nll() const {
  return totals_.frames == 0 ? std::numeric_limits<double>::quiet_NaN()
                             : totals_.nll_sum / static_cast<double>(totals_.frames);
}

double FrameMetrics::accuracy() const {
  if (output_ == FrameOutput::kCategorical) return ratio(totals_.correct, totals_.frames);
  return ratio(totals_.true_positives,
               totals_.true_positives + totals_.false_positives + totals_.false_negatives);
}

double FrameMetrics::precision() const {
  return ratio(totals_.true_positives, totals_.true_positives + totals_.false_positives);
}

double FrameMetrics::recall() const {
  return ratio(totals_.true_positives, totals_.true_positives + totals_.false_negatives);
}

double FrameMetrics::f1() const {
  return ratio(2 * totals_.true_positives,
               2 * totals_.true_positives + totals_.false_positives + totals_.false_negatives);
}

double FrameMetrics::perplexity() const {
  return std::exp(nll());
}

double FrameMetrics::event_accuracy() const {
  return ratio(totals_.event_correct, totals_.event_frames);
}

double FrameMetrics::no_event_accuracy() const {
  return ratio(totals_.correct - totals_.event_correct, totals_.frames - totals_.event_frames);
}

nlohmann::json FrameMetrics::row() const {
  const nlohmann::json nll_value =
      totals_.frames == 0 ? nlohmann::json(nullptr) : nlohmann::json(nll());
  if (output_ == FrameOutput::kCategorical) {
    return {{"nll", nll_value},
            {"perplexity",
             totals_.frames == 0 ? nlohmann::json(nullptr) : nlohmann::json(perplexity())},
            {"acc", accuracy()},
            {"event_accuracy", event_accuracy()},
            {"no_event_accuracy", no_event_accuracy()},
            {"frames", totals_.frames}};
  }
  return {{"nll", nll_value},   {"acc", accuracy()}, {"precision", precision()},
          {"recall", recall()}, {"f1", f1()},        {"frames", totals_.frames}};
}

nlohmann::json FrameMetrics::to_json() const {
  nlohmann::json json = row();
  if (output_ == FrameOutput::kCategorical) {
    json["correct"] = totals_.correct;
    json["event_frames"] = totals_.event_frames;
    json["event_correct"] = totals_.event_correct;
  } else {
    json["tp"] = totals_.true_positives;
    json["fp"] = totals_.false_positives;
    json["fn"] = totals_.false_negatives;
  }
  return json;
}

}  // namespace cadenza
