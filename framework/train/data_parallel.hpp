// Data-parallel training steps (docs/scale.md#mpi). A global batch of B sequences is computed as S
// shares: share s holds the contiguous, balanced block of sequences [s B / S, (s + 1) B / S)
// (the first B mod S shares one more), with the batch's steps; data.batch_size stays B. Each
// share's gradient is normalised by the scored frames of the whole batch, so the shares' gradients
// add up to the batch's mean-loss gradient, and they are summed in share order,
// ((g_0 + g_1) + g_2) + ..., in float.
//
// On R MPI ranks (S = R) rank r computes share r and the ranks sum in rank order
// (distributed/communicator.hpp); one process with S shares computes them one after another and
// sums in the same order. The two are therefore the same computation, bit for bit, when each
// share is computed with the same thread count. With S = 1 a step is the plain one: the whole batch
// in one model call, normalised by its own scored frames.
//
// Gradients are summed in buckets of consecutive parameters, in parameter order, after the
// backward pass: oneDNN's RNN primitive returns the weight gradients of a whole layer stack from
// one call, so only the output layer's (under 3% of the bytes at H = 256) would be ready earlier.
#pragma once

#include <vector>

#include "data/loader.hpp"
#include "distributed/communicator.hpp"
#include "metrics/frame_metrics.hpp"
#include "models/model.hpp"
#include "nn/parameter.hpp"

namespace cadenza {

// Sequences [first, first + count) of a batch.
struct ShareRange {
  int first = 0;
  int count = 0;
};

// Share `share` (0 <= share < shares) of a batch of `batch_size` sequences; count may be 0 when
// batch_size < shares.
ShareRange share_range(int batch_size, int share, int shares);

// The sequences `range` of `batch`, with its steps and pitches: inputs and targets frames
// [steps, count, pitches], masks [steps, count], samples [count] (none when the batch has none).
Batch batch_share(const Batch& batch, ShareRange range);

// The seed of share `share`'s random draws: the run's seed for share 0 (so a one-share step draws
// as the plain trainer does), a seed derived from (seed, share) for the others.
uint64_t share_seed(uint64_t seed, int share);

// Throws UsageError unless shares >= 1 and, on a world of R > 1 ranks, shares = R.
void check_batch_shares(const Communicator& world, int shares);

class DataParallelStep {
 public:
  // check_batch_shares(world, shares) first.
  DataParallelStep(const Communicator& world, int shares, std::vector<NamedParameter> parameters);

  // Step `step`'s forward and backward of `batch` on `model`: leaves the global batch's gradient
  // in every parameter's grad, identical on every rank, adds the batch's training metrics to
  // `metrics` unless it is null (share by share, in share order) and returns the batch's loss
  // (totals over every share). The random draws of share s (dropout, scheduled sampling) come
  // from (share_seed(seed, s), step): a multi-share run draws its own masks, the same on N ranks
  // as on one process with N shares.
  LossValue run(SequenceModel& model, const Batch& batch, FrameMetrics* metrics, uint64_t seed,
                uint64_t step);

  // Seconds the last run() spent summing gradients and share totals across the ranks.
  double reduce_seconds() const { return reduce_seconds_; }

 private:
  // The flattened gradients of consecutive parameters [first, last).
  struct Bucket {
    size_t first = 0;
    size_t last = 0;
    std::vector<float> values;
  };
  void add_gradients_to_buckets(bool first_share);
  void copy_buckets_to_gradients();

  const Communicator& world_;
  int shares_;
  std::vector<NamedParameter> parameters_;
  std::vector<Bucket> buckets_;
  double reduce_seconds_ = 0.0;
};

}  // namespace cadenza
