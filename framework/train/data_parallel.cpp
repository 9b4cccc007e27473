#include "train/data_parallel.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "core/error.hpp"
#include "core/partition.hpp"
#include "core/rng.hpp"

namespace cadenza {
namespace {

// Gradients are summed in buckets of about this many floats (16 MB); a larger parameter is a
// bucket of its own.
constexpr int64_t kBucketFloats = int64_t{4} << 20;

// What a share reports besides its gradient: loss total, scored frames, and its metrics' totals
// (FrameTotals in field order). Counts travel as doubles, exact below 2^53.
constexpr size_t kSummaryValues = 10;

void append_summary(const LossValue& loss, const FrameMetrics& metrics,
                    std::vector<double>& summaries) {
  const FrameTotals& totals = metrics.totals();
  summaries.insert(
      summaries.end(),
      {loss.total, static_cast<double>(loss.scored_frames), static_cast<double>(totals.frames),
       totals.nll_sum, static_cast<double>(totals.true_positives),
       static_cast<double>(totals.false_positives), static_cast<double>(totals.false_negatives),
       static_cast<double>(totals.correct), static_cast<double>(totals.event_frames),
       static_cast<double>(totals.event_correct)});
}

FrameTotals summary_totals(const double* share) {
  const auto count = [share](int at) { return static_cast<int64_t>(share[at]); };
  FrameTotals totals;
  totals.frames = count(2);
  totals.nll_sum = share[3];
  totals.true_positives = count(4);
  totals.false_positives = count(5);
  totals.false_negatives = count(6);
  totals.correct = count(7);
  totals.event_frames = count(8);
  totals.event_correct = count(9);
  return totals;
}

// Sequences `range` of a block of `batch_size` sequences; an empty block (no targets) stays empty.
FrameBlock block_share(const FrameBlock& block, int batch_size, int pitches, ShareRange range) {
  FrameBlock share;
  share.steps = block.steps;
  if (block.frames.empty()) return share;
  const size_t row = static_cast<size_t>(pitches);
  share.frames.resize(static_cast<size_t>(block.steps) * range.count * row);
  share.mask.resize(static_cast<size_t>(block.steps) * range.count);
  for (int64_t t = 0; t < block.steps; ++t) {
    const size_t from = static_cast<size_t>(t) * batch_size + range.first;
    const size_t to = static_cast<size_t>(t) * range.count;
    std::memcpy(share.frames.data() + to * row, block.frames.data() + from * row,
                range.count * row * sizeof(float));
    std::memcpy(share.mask.data() + to, block.mask.data() + from, range.count * sizeof(float));
  }
  return share;
}

// The purpose tag of derive_key for the seeds of shares 1, 2, ...
constexpr uint64_t kShareSeedTag = 0x5348415245ULL;  // "SHARE"

}  // namespace

uint64_t share_seed(uint64_t seed, int share) {
  if (share == 0) return seed;
  const PhiloxKey key = derive_key(seed, kShareSeedTag, static_cast<uint64_t>(share));
  return (uint64_t{key[0]} << 32) | key[1];
}

ShareRange share_range(int batch_size, int share, int shares) {
  const Part part = balanced_part(batch_size, share, shares);
  return {static_cast<int>(part.first), static_cast<int>(part.count)};
}

Batch batch_share(const Batch& batch, ShareRange range) {
  Batch share;
  share.epoch = batch.epoch;
  share.index = batch.index;
  share.batch_size = range.count;
  share.pitches = batch.pitches;
  share.inputs = block_share(batch.inputs, batch.batch_size, batch.pitches, range);
  share.targets = block_share(batch.targets, batch.batch_size, batch.pitches, range);
  // Synthetic batches (cadenza bench) carry no origins.
  if (!batch.samples.empty()) {
    share.samples.assign(batch.samples.begin() + range.first,
                         batch.samples.begin() + range.first + range.count);
  }
  return share;
}

void check_batch_shares(const Communicator& world, int shares) {
  if (shares < 1) throw UsageError(fmt::format("--batch-shares {}: must be at least 1", shares));
  if (world.size() > 1 && shares != world.size()) {
    throw UsageError(fmt::format(
        "--batch-shares {} on {} MPI ranks: each rank computes one share, so the shares are the "
        "rank count; --batch-shares N is for one process computing what N ranks compute",
        shares, world.size()));
  }
}

DataParallelStep::DataParallelStep(const Communicator& world, int shares,
                                   std::vector<NamedParameter> parameters)
    : world_(world), shares_(shares), parameters_(std::move(parameters)) {
  check_batch_shares(world_, shares_);
  if (shares_ == 1) return;
  int64_t floats = 0;
  for (size_t p = 0; p < parameters_.size(); ++p) {
    if (buckets_.empty() || floats >= kBucketFloats) {
      buckets_.push_back({p, p, {}});
      floats = 0;
    }
    Bucket& bucket = buckets_.back();
    bucket.last = p + 1;
    floats += parameters_[p].parameter->grad.numel();
    bucket.values.resize(static_cast<size_t>(floats));
  }
}

void DataParallelStep::add_gradients_to_buckets(bool first_share) {
  for (Bucket& bucket : buckets_) {
    float* values = bucket.values.data();
    for (size_t p = bucket.first; p < bucket.last; ++p) {
      const Tensor& grad = parameters_[p].parameter->grad;
      const float* g = grad.data();
      const int64_t n = grad.numel();
      if (first_share) {
        std::memcpy(values, g, static_cast<size_t>(n) * sizeof(float));
      } else {
        for (int64_t i = 0; i < n; ++i)
          values[i] += g[i];
      }
      values += n;
    }
  }
}

void DataParallelStep::copy_buckets_to_gradients() {
  for (const Bucket& bucket : buckets_) {
    const float* values = bucket.values.data();
    for (size_t p = bucket.first; p < bucket.last; ++p) {
      Tensor& grad = parameters_[p].parameter->grad;
      std::memcpy(grad.data(), values, static_cast<size_t>(grad.numel()) * sizeof(float));
      values += grad.numel();
    }
  }
}

LossValue DataParallelStep::run(SequenceModel& model, const Batch& batch, FrameMetrics* metrics,
                                uint64_t seed, uint64_t step) {
  const auto sink_into = [](FrameMetrics* target) -> ScoreSink {
    if (target == nullptr) return {};
    return [target](const Tensor& logits, const Tensor& targets, const Tensor& mask) {
      target->add(logits, targets, mask);
    };
  };
  const int64_t loss_frames = model.scored_frames(batch);
  if (shares_ == 1) {
    for (const auto& named : parameters_)
      named.parameter->grad.zero();
    model.set_training_step(seed, step);
    return model.train_batch(batch, sink_into(metrics), loss_frames);
  }
  const bool distributed = world_.size() > 1;
  const int first = distributed ? world_.rank() : 0;
  const int last = distributed ? first + 1 : shares_;
  std::vector<double> summaries;
  for (int share = first; share < last; ++share) {
    for (const auto& named : parameters_)
      named.parameter->grad.zero();
    const ShareRange range = share_range(batch.batch_size, share, shares_);
    model.set_training_step(share_seed(seed, share), step);
    FrameMetrics share_metrics(model.frame_output());
    LossValue loss;
    if (range.count > 0) {
      loss =
          model.train_batch(batch_share(batch, range),
                            sink_into(metrics == nullptr ? nullptr : &share_metrics), loss_frames);
    }
    add_gradients_to_buckets(share == first);
    append_summary(loss, share_metrics, summaries);
  }
  const auto reduce_start = std::chrono::steady_clock::now();
  for (Bucket& bucket : buckets_)
    world_.ordered_sum(bucket.values);
  const std::vector<double> every_share = world_.all_gather(summaries);
  reduce_seconds_ =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - reduce_start).count();
  copy_buckets_to_gradients();

  LossValue total;
  for (size_t at = 0; at < every_share.size(); at += kSummaryValues) {
    const double* share = every_share.data() + at;
    total.total += share[0];
    total.scored_frames += static_cast<int64_t>(share[1]);
    if (metrics == nullptr) continue;
    metrics->merge(FrameMetrics::from_totals(model.frame_output(), summary_totals(share)));
  }
  return total;
}

}  // namespace cadenza
