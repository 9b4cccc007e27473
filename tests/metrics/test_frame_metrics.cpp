// Frame metrics (docs/metrics.md): the per-key nll over logits in [-50, 50], a hand-computed case
// with padding, an independent long-double reference on random data, stability at extreme logits,
// merge and thread-count independence, and the sanity floor: predicting each key from its JSB
// training-set frequency gives test nll 11.09 on frames 2..T. For token models: the categorical
// nll, perplexity, accuracy and its event / no-event split against a long-double reference.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "data/mat_import.hpp"
#include "metrics/frame_metrics.hpp"
#include "support/process.hpp"
#include "train/train_test_util.hpp"

namespace cadenza {
namespace {

using testing::uniform_tensor;

Tensor make(std::vector<int64_t> dims, std::vector<float> values) {
  Tensor t(std::move(dims));
  std::copy(values.begin(), values.end(), t.data());
  return t;
}

double softplus(double x) {
  return std::log1p(std::exp(x));
}

// Bound on the error of one key's nll (computed in double from the f32 logit).
constexpr double kKeyError = 1e-13;

TEST(FrameMetrics, OneKeyNllIsWithinTheErrorBoundOverTheWholeLogitRange) {
  const int64_t count = 1001;
  Tensor logits({count, 1, 1}), zeros({count, 1, 1}), ones({count, 1, 1});
  for (int64_t i = 0; i < count; ++i)
    logits[i] = -50.0f + 100.0f * static_cast<float>(i) / (count - 1);
  ones.fill(1.0f);
  double worst = 0.0;
  for (int64_t i = 0; i < count; ++i) {
    Tensor one_mask({count, 1});  // scores frame i only
    one_mask[i] = 1.0f;
    const double x = logits[i];
    FrameMetrics off, on;
    off.add(logits, zeros, one_mask);
    on.add(logits, ones, one_mask);
    worst = std::max({worst, std::abs(off.nll() - softplus(x)), std::abs(on.nll() - softplus(-x))});
  }
  EXPECT_LT(worst, kKeyError);
  RecordProperty("worst_key_error", std::to_string(worst));
}

TEST(FrameMetrics, HandComputedCaseIgnoresPaddedFrames) {
  // [T=2, B=2, P=3]; frame (t=1, b=1) is padding and would otherwise dominate.
  const Tensor logits = make({2, 2, 3}, {0, 2, -3, 1, -1, 0.5f, -2, 4, 0, 100, 100, 100});
  const Tensor targets = make({2, 2, 3}, {1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0});
  const Tensor mask = make({2, 2}, {1, 1, 1, 0});
  FrameMetrics metrics;
  metrics.add(logits, targets, mask);

  // Per key: -log sigmoid(x) = softplus(-x) when y = 1, -log(1 - sigmoid(x)) = softplus(x) else.
  const double nll_sum = (softplus(0) + softplus(2) + softplus(-3)) +
                         (softplus(-1) + softplus(1) + softplus(0.5)) +
                         (softplus(-2) + softplus(-4) + softplus(0));
  EXPECT_EQ(metrics.frames(), 3);
  EXPECT_NEAR(metrics.nll_sum(), nll_sum, 9 * kKeyError);
  EXPECT_NEAR(metrics.nll(), nll_sum / 3, 3 * kKeyError);
  // Predictions (x >= 0) vs targets: [1,1,0]/[1,0,0], [1,0,1]/[1,1,0], [0,1,1]/[0,1,1].
  EXPECT_EQ(metrics.true_positives(), 4);
  EXPECT_EQ(metrics.false_positives(), 2);
  EXPECT_EQ(metrics.false_negatives(), 1);
  EXPECT_DOUBLE_EQ(metrics.accuracy(), 4.0 / 7.0);
  EXPECT_DOUBLE_EQ(metrics.precision(), 4.0 / 6.0);
  EXPECT_DOUBLE_EQ(metrics.recall(), 4.0 / 5.0);
  EXPECT_DOUBLE_EQ(metrics.f1(), 8.0 / 11.0);

  const nlohmann::json row = metrics.to_json();
  EXPECT_DOUBLE_EQ(row["nll"].get<double>(), metrics.nll());
  EXPECT_DOUBLE_EQ(row["acc"].get<double>(), 4.0 / 7.0);
  EXPECT_EQ(row["frames"].get<int64_t>(), 3);
  EXPECT_EQ(row["tp"].get<int64_t>(), 4);
  for (const char* key : {"precision", "recall", "f1", "fp", "fn"})
    EXPECT_TRUE(row.contains(key)) << key;
}

// The textbook definition in long double: -(y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))).
TEST(FrameMetrics, MatchesAnIndependentLongDoubleReferenceOnRandomData) {
  const int64_t steps = 9, batch = 5, keys = 88;
  const Tensor logits = uniform_tensor({steps, batch, keys}, 3, 1, -8.0f, 6.0f);
  Tensor targets = uniform_tensor({steps, batch, keys}, 3, 2, 0.0f, 1.0f);
  for (float& y : targets.values())
    y = y < 0.1f ? 1.0f : 0.0f;
  Tensor mask({steps, batch});
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t t = 0; t < steps - b; ++t)  // sequence b has steps - b frames
      mask[t * batch + b] = 1.0f;

  long double nll = 0;
  int64_t frames = 0, tp = 0, fp = 0, fn = 0;
  for (int64_t f = 0; f < steps * batch; ++f) {
    if (mask[f] == 0.0f) continue;
    ++frames;
    for (int64_t k = 0; k < keys; ++k) {
      const long double x = logits[f * keys + k], y = targets[f * keys + k];
      const long double p = 1.0L / (1.0L + std::exp(-x));
      nll -= y * std::log(p) + (1 - y) * std::log(1 - p);
      const bool on = p >= 0.5L, actual = y == 1;
      tp += on && actual;
      fp += on && !actual;
      fn += !on && actual;
    }
  }
  FrameMetrics metrics;
  metrics.add(logits, targets, mask);
  EXPECT_EQ(metrics.frames(), frames);
  EXPECT_NEAR(metrics.nll(), static_cast<double>(nll / frames), keys * kKeyError);
  EXPECT_EQ(metrics.true_positives(), tp);
  EXPECT_EQ(metrics.false_positives(), fp);
  EXPECT_EQ(metrics.false_negatives(), fn);
  EXPECT_GT(tp, 0);
  EXPECT_GT(fn, 0);
}

TEST(FrameMetrics, ExtremeLogitsGiveFiniteExactValues) {
  const Tensor logits = make({1, 1, 4}, {1e4f, -1e4f, 1e4f, -1e4f});
  const Tensor targets = make({1, 1, 4}, {1, 1, 0, 0});
  FrameMetrics metrics;
  metrics.add(logits, targets, make({1, 1}, {1}));
  EXPECT_DOUBLE_EQ(metrics.nll(), 2e4);  // the two wrong keys cost |x| each, the right ones 0
  EXPECT_EQ(metrics.true_positives(), 1);
  EXPECT_EQ(metrics.false_positives(), 1);
  EXPECT_EQ(metrics.false_negatives(), 1);
}

TEST(FrameMetrics, MergeOfShardsEqualsOneAccumulatorAndThreadsDoNotMatter) {
  const Tensor logits = uniform_tensor({64, 8, 88}, 5, 1, -6.0f, 4.0f);
  Tensor targets = uniform_tensor({64, 8, 88}, 5, 2, 0.0f, 1.0f);
  for (float& y : targets.values())
    y = y < 0.05f ? 1.0f : 0.0f;
  Tensor mask({64, 8});
  mask.fill(1.0f);

  const int threads_before = omp_get_max_threads();
  omp_set_num_threads(1);
  FrameMetrics one_thread;
  one_thread.add(logits, targets, mask);
  omp_set_num_threads(2);
  FrameMetrics two_threads;
  two_threads.add(logits, targets, mask);
  omp_set_num_threads(threads_before);
  EXPECT_EQ(one_thread.nll_sum(), two_threads.nll_sum());
  EXPECT_EQ(one_thread.true_positives(), two_threads.true_positives());

  // Two halves along time, merged.
  Tensor first({32, 8, 88}), second({32, 8, 88}), first_targets({32, 8, 88}),
      second_targets({32, 8, 88}), half_mask({32, 8});
  const int64_t half = 32 * 8 * 88;
  std::copy(logits.data(), logits.data() + half, first.data());
  std::copy(logits.data() + half, logits.data() + 2 * half, second.data());
  std::copy(targets.data(), targets.data() + half, first_targets.data());
  std::copy(targets.data() + half, targets.data() + 2 * half, second_targets.data());
  half_mask.fill(1.0f);
  FrameMetrics a, b;
  a.add(first, first_targets, half_mask);
  b.add(second, second_targets, half_mask);
  a.merge(b);
  EXPECT_EQ(a.frames(), one_thread.frames());
  EXPECT_NEAR(a.nll_sum(), one_thread.nll_sum(), 1e-12 * one_thread.nll_sum());
  EXPECT_EQ(a.true_positives(), one_thread.true_positives());
  EXPECT_EQ(a.false_positives(), one_thread.false_positives());
  EXPECT_EQ(a.false_negatives(), one_thread.false_negatives());
}

TEST(FrameMetrics, EmptyAndInvalidInputs) {
  const FrameMetrics empty;
  EXPECT_TRUE(std::isnan(empty.nll()));
  EXPECT_EQ(empty.accuracy(), 0.0);
  EXPECT_EQ(empty.f1(), 0.0);
  EXPECT_TRUE(empty.to_json()["nll"].is_null());

  FrameMetrics metrics;
  EXPECT_THROW(metrics.add(Tensor({2, 1, 3}), Tensor({2, 1, 4}), Tensor({2, 1})), Error);
  EXPECT_THROW(metrics.add(Tensor({2, 1, 3}), Tensor({2, 1, 3}), Tensor({1, 2})), Error);
  EXPECT_THROW(metrics.add(Tensor({2, 1, 3}), Tensor({2, 1, 3}), make({2, 1}, {1, 0.5f})),
               InputError);
  EXPECT_EQ(metrics.frames(), 0);
}

// The sanity floor of docs/metrics.md. Key k gets the logit of its training-set frequency p_k
// (clamped to [1e-12, 1 - 1e-12] for keys never or always on), every test frame but the first of
// each sequence is scored: nll 11.09 nats per frame.
TEST(FrameMetrics, FrequencyBaselineOnJsbGivesTheDesignFloor) {
  const auto mat = testing::shared_dir() / "datasets" / "polyphonic" / "JSB_Chorales.mat";
  ASSERT_TRUE(std::filesystem::exists(mat)) << mat << " is missing (see docs/data.md)";
  const Dataset jsb = import_mat(mat, "JSB_Chorales");
  const SplitRolls& train = jsb.splits[0];
  const SplitRolls& test = jsb.splits[2];
  const int keys = train.pitches;
  std::vector<double> on(static_cast<std::size_t>(keys), 0.0);
  for (int64_t f = 0; f < train.frames(); ++f)
    for (int k = 0; k < keys; ++k)
      on[static_cast<std::size_t>(k)] += train.cells[static_cast<std::size_t>(f * keys + k)];
  std::vector<float> key_logits;
  for (double count : on) {
    const double p = std::clamp(count / static_cast<double>(train.frames()), 1e-12, 1 - 1e-12);
    key_logits.push_back(static_cast<float>(std::log(p) - std::log1p(-p)));
  }

  FrameMetrics metrics;
  for (int64_t s = 0; s < test.sequences(); ++s) {
    const int64_t scored = test.length(s) - 1;
    if (scored < 1) continue;
    Tensor logits({scored, 1, keys}), targets({scored, 1, keys}), mask({scored, 1});
    mask.fill(1.0f);
    const auto cells = test.sequence_cells(s);
    for (int64_t t = 0; t < scored; ++t) {
      for (int k = 0; k < keys; ++k) {
        logits[t * keys + k] = key_logits[static_cast<std::size_t>(k)];
        targets[t * keys + k] = cells[static_cast<std::size_t>((t + 1) * keys + k)];
      }
    }
    metrics.add(logits, targets, mask);
  }
  EXPECT_EQ(metrics.frames(), test.frames() - test.sequences());
  EXPECT_NEAR(metrics.nll(), 11.09, 0.005);
  // Every key's frequency is below one half: nothing is ever predicted on.
  EXPECT_EQ(metrics.true_positives() + metrics.false_positives(), 0);
  EXPECT_EQ(metrics.accuracy(), 0.0);
}

// Token metrics: -log softmax(x)[y] per scored event in long double, the argmax (lowest class on a
// tie) against the target, split by whether the target is NO_EVENT (class 0).
TEST(FrameMetrics, CategoricalMetricsMatchALongDoubleReference) {
  const int64_t steps = 7, batch = 4, classes = 38;
  Tensor logits = uniform_tensor({steps, batch, classes}, 9, 1, -6.0f, 6.0f);
  Tensor targets({steps, batch, classes});
  Tensor mask({steps, batch});
  const Tensor draws = uniform_tensor({steps, batch}, 9, 2, 0.0f, 1.0f);
  for (int64_t f = 0; f < steps * batch; ++f) {
    // Half the events NO_EVENT, the others spread over the classes; the model is right on some.
    const auto target = draws[f] < 0.5f ? 0 : static_cast<int64_t>(draws[f] * 70) % classes;
    targets[f * classes + target] = 1.0f;
    if (f % 3 == 0) logits[f * classes + target] = 20.0f;
    mask[f] = f % batch == batch - 1 && f >= 5 * batch ? 0.0f : 1.0f;  // a shorter sequence
  }
  logits[1 * classes + 4] = logits[1 * classes + 5] = 50.0f;  // a tie goes to class 4

  long double nll = 0;
  int64_t frames = 0, correct = 0, events = 0, events_correct = 0;
  for (int64_t f = 0; f < steps * batch; ++f) {
    if (mask[f] == 0.0f) continue;
    const float* x = logits.data() + f * classes;
    int64_t target = 0, best = 0;
    long double total = 0;
    for (int64_t c = 0; c < classes; ++c) {
      if (targets[f * classes + c] == 1.0f) target = c;
      if (x[c] > x[best]) best = c;
      total += std::exp(static_cast<long double>(x[c]));
    }
    nll -= static_cast<long double>(x[target]) - std::log(total);
    ++frames;
    correct += best == target;
    events += target != 0;
    events_correct += target != 0 && best == target;
  }
  FrameMetrics metrics(FrameOutput::kCategorical);
  metrics.add(logits, targets, mask);
  EXPECT_EQ(metrics.frames(), frames);
  EXPECT_NEAR(metrics.nll(), static_cast<double>(nll / frames), 1e-12);
  EXPECT_NEAR(metrics.perplexity(), std::exp(static_cast<double>(nll / frames)), 1e-9);
  EXPECT_DOUBLE_EQ(metrics.accuracy(), static_cast<double>(correct) / frames);
  EXPECT_DOUBLE_EQ(metrics.event_accuracy(), static_cast<double>(events_correct) / events);
  EXPECT_DOUBLE_EQ(metrics.no_event_accuracy(),
                   static_cast<double>(correct - events_correct) / (frames - events));
  EXPECT_GT(correct, 0);
  EXPECT_LT(correct, frames);
  EXPECT_GT(events, 0);
  EXPECT_LT(events, frames);

  const nlohmann::json row = metrics.to_json();
  for (const char* key : {"nll", "perplexity", "acc", "event_accuracy", "no_event_accuracy",
                          "frames", "correct", "event_frames", "event_correct"})
    EXPECT_TRUE(row.contains(key)) << key;
  EXPECT_FALSE(row.contains("f1")) << "a piano-roll metric means nothing for tokens";
  const FrameMetrics restored =
      FrameMetrics::from_totals(FrameOutput::kCategorical, metrics.totals());
  EXPECT_EQ(restored.to_json(), row);

  Tensor two_classes = targets;
  two_classes[0 * classes + 1] = two_classes[0 * classes + 2] = 1.0f;
  FrameMetrics rejecting(FrameOutput::kCategorical);
  EXPECT_THROW(rejecting.add(logits, two_classes, mask), InputError);
}

}  // namespace
}  // namespace cadenza
