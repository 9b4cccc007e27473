#include "metrics/frame_metrics.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/error.hpp"
#include "core/parallel_for.hpp"

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
  std::vector<FrameScore> scores(static_cast<std::size_t>(frames));
  parallel_for(frames, frames >= kParallelFrames, [&](int64_t f) {
    if (mask[f] != 0.0f) {
      scores[static_cast<std::size_t>(f)] =
          score_frame(x + f * keys, targets.data() + f * keys, keys);
    }
  });
  double batch_nll = 0.0;
  for (int64_t f = 0; f < frames; ++f) {
    if (mask[f] == 0.0f) continue;
    const FrameScore& score = scores[static_cast<std::size_t>(f)];
    ++frames_;
    batch_nll += score.nll;
    true_positives_ += score.true_positives;
    false_positives_ += score.false_positives;
    false_negatives_ += score.false_negatives;
  }
  nll_sum_ += batch_nll;
}

FrameMetrics FrameMetrics::from_totals(int64_t frames, double nll_sum, int64_t true_positives,
                                       int64_t false_positives, int64_t false_negatives) {
  FrameMetrics metrics;
  metrics.frames_ = frames;
  metrics.nll_sum_ = nll_sum;
  metrics.true_positives_ = true_positives;
  metrics.false_positives_ = false_positives;
  metrics.false_negatives_ = false_negatives;
  return metrics;
}

void FrameMetrics::merge(const FrameMetrics& other) {
  frames_ += other.frames_;
  nll_sum_ += other.nll_sum_;
  true_positives_ += other.true_positives_;
  false_positives_ += other.false_positives_;
  false_negatives_ += other.false_negatives_;
}

double FrameMetrics::nll() const {
  return frames_ == 0 ? std::numeric_limits<double>::quiet_NaN()
                      : nll_sum_ / static_cast<double>(frames_);
}

double FrameMetrics::accuracy() const {
  return ratio(true_positives_, true_positives_ + false_positives_ + false_negatives_);
}

double FrameMetrics::precision() const {
  return ratio(true_positives_, true_positives_ + false_positives_);
}

double FrameMetrics::recall() const {
  return ratio(true_positives_, true_positives_ + false_negatives_);
}

double FrameMetrics::f1() const {
  return ratio(2 * true_positives_, 2 * true_positives_ + false_positives_ + false_negatives_);
}

nlohmann::json FrameMetrics::to_json() const {
  return {{"nll", frames_ == 0 ? nlohmann::json(nullptr) : nlohmann::json(nll())},
          {"acc", accuracy()},
          {"precision", precision()},
          {"recall", recall()},
          {"f1", f1()},
          {"frames", frames_},
          {"tp", true_positives_},
          {"fp", false_positives_},
          {"fn", false_negatives_}};
}

}  // namespace cadenza
