// The training data loader: turns one split of a dataset into an endless, exactly reproducible
// stream of padded, masked, time-major batches.
//
// Each epoch has a plan: the samples (framing), their seeded order and their grouping into
// batches, all fixed by (seed, epoch). Batch b of epoch e is a pure function of the plan and of
// per-sample keys derive_key(seed, epoch, sample id), so the stream is bit-identical for any
// number of loader threads and a loader restarted at a saved position continues exactly.
//
// With threads = 0 batches are built on the caller's thread inside next(). With threads = n >= 1
// a background thread runs a oneTBB parallel_pipeline in a task_arena of n threads:
//   serial_in_order: next batch plan -> parallel: assemble + augment -> serial_in_order: push into
//   a queue of at most `prefetch` batches (blocks while full).
// At most prefetch + n batches exist inside the loader at any time, so memory stays flat.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#include "data/dataset.hpp"

namespace cadenza {

enum class Framing {
  kFull,      // one sample per sequence, batches in shuffled order, padded to the longest
  kBucket,    // one sample per sequence, batches of similar length (sorted), batch order shuffled
  kWindow,    // fixed windows of `window` frames every `stride` frames (plus one ending at the end)
  kSegments,  // context_frames of context followed by up to target_frames of target
};

// "full" | "bucket" | "window" | "segments"; ConfigError naming data.framing otherwise.
Framing parse_framing(std::string_view name);

struct LoaderOptions {
  Framing framing = Framing::kFull;
  int batch_size = 8;
  int64_t window = 128;         // kWindow: frames per window
  int64_t stride = 64;          // kWindow, kSegments: frames between consecutive starts
  int64_t context_frames = 32;  // kSegments
  int64_t target_frames = 32;   // kSegments
  int max_transpose = 0;        // transpose each sample by k in [-n, n] semitones; 0 = off
  // Token rolls: the leading non-pitch columns (NO_EVENT, NOTE_OFF), left in place; a sample's
  // shift is then drawn among those that keep all its notes in range (data/augment.hpp). 0 for
  // piano rolls, whose notes shifted out of range are dropped.
  int fixed_columns = 0;
  bool shuffle = true;
  uint64_t seed = 1;
  int threads = 0;   // 0 = build batches inline in next(); n >= 1 = oneTBB pipeline of n threads
  int prefetch = 4;  // batches the pipeline may finish ahead of the consumer
};

// Throws ConfigError naming the data.* / threads.loader key when an option is out of range.
void validate_loader_options(const LoaderOptions& options);

// Where a sample comes from, so that evaluation can be audited.
struct SampleOrigin {
  int64_t sequence = 0;     // index in the split
  int64_t start_frame = 0;  // first frame taken from the sequence
  int64_t frames = 0;       // frames taken (context + target for kSegments)
  int transpose = 0;        // semitones applied
};

// Time-major frames with a padding mask.
struct FrameBlock {
  int64_t steps = 0;
  std::vector<float> frames;  // [steps, batch_size, pitches]
  std::vector<float> mask;    // [steps, batch_size]; 1 = real frame, 0 = padding
};

struct Batch {
  int64_t epoch = 0;
  int64_t index = 0;   // batch index within the epoch
  int batch_size = 0;  // samples in this batch; only the last batch of an epoch may be smaller
  int pitches = 0;
  // kFull / kBucket: steps = the longest sample; kWindow: steps = window;
  // kSegments: the context, steps = context_frames.
  FrameBlock inputs;
  // kSegments only: the frames after the context, steps = target_frames; empty otherwise.
  FrameBlock targets;
  std::vector<SampleOrigin> samples;  // [batch_size]
};

// The position of the next batch next() returns; save it with a checkpoint to resume exactly.
struct LoaderPosition {
  int64_t epoch = 0;
  int64_t batch = 0;
  bool operator==(const LoaderPosition&) const = default;
};

// A contiguous run of frames of one sequence: one training sample.
struct SampleSpan {
  int64_t sequence = 0;
  int64_t start = 0;
  int64_t frames = 0;
};

// Samples of a split under a framing, in canonical order (by sequence, then start). Throws
// ConfigError when the framing yields no sample (e.g. every sequence shorter than the context).
std::vector<SampleSpan> frame_samples(const SplitRolls& split, const LoaderOptions& options);

// Batches of one epoch as lists of sample ids (indices into frame_samples), in stream order.
std::vector<std::vector<int64_t>> plan_epoch(const std::vector<SampleSpan>& samples,
                                             const LoaderOptions& options, int64_t epoch);

class Loader {
 public:
  // Starts the stream at `start`. The loader shares ownership of the split.
  Loader(std::shared_ptr<const SplitRolls> split, const LoaderOptions& options,
         LoaderPosition start = {});
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // The next batch of the stream (after the last batch of epoch e comes batch 0 of epoch e+1).
  // Rethrows any error raised while building batches.
  Batch next();

  LoaderPosition position() const { return position_; }
  int64_t batches_per_epoch() const { return batches_per_epoch_; }
  int64_t samples_per_epoch() const { return static_cast<int64_t>(samples_.size()); }
  const LoaderOptions& options() const { return options_; }

  // Batches the loader held (being built or queued, not yet returned by next()): the peak so far
  // and its guaranteed bound, prefetch + threads (1 with threads = 0).
  int64_t peak_batches_held() const { return peak_held_.load(); }
  int64_t max_batches_held() const;

 private:
  struct Plan {
    int64_t epoch = 0;
    int64_t index = 0;
    std::vector<int64_t> sample_ids;
  };

  // Returns the plan at `cursor` and advances it; caches the current epoch's batches.
  Plan take_plan(LoaderPosition& cursor);
  // inputs/targets [T, B, P] and masks [T, B] for one plan.
  Batch assemble(const Plan& plan) const;
  void count_held(int64_t delta);
  void produce();

  std::shared_ptr<const SplitRolls> split_;
  LoaderOptions options_;
  std::vector<SampleSpan> samples_;
  int64_t batches_per_epoch_ = 0;
  LoaderPosition position_;

  // The producer's cursor and its cache of one epoch's plan (touched by one thread at a time).
  LoaderPosition plan_cursor_;
  int64_t cached_epoch_ = -1;
  std::vector<std::vector<int64_t>> cached_plan_;

  std::atomic<int64_t> held_{0};
  std::atomic<int64_t> peak_held_{0};

  std::mutex mutex_;
  std::condition_variable queue_changed_;
  std::deque<Batch> queue_;
  bool stopping_ = false;
  std::exception_ptr failure_;
  std::thread producer_;
};

}  // namespace cadenza
