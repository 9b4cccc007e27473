#include "data/loader.hpp"

#include <fmt/format.h>
#include <tbb/parallel_pipeline.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <numeric>
#include <utility>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "data/augment.hpp"

namespace cadenza {
namespace {

// Purpose tags that keep the loader's random streams apart from every other use of the seed.
constexpr uint64_t kShuffleTag = 0x5348554646u;  // "SHUFF"
constexpr uint64_t kAugmentTag = 0x4155474du;    // "AUGM"
constexpr uint64_t kEpochStream = ~uint64_t{0};  // sample slot of the per-epoch shuffle key

void shuffle_in_place(std::vector<int64_t>& values, CounterRng& rng) {
  for (size_t i = values.size(); i > 1; --i) {
    const auto j = static_cast<size_t>(rng.below(i));
    std::swap(values[i - 1], values[j]);
  }
}

std::vector<std::vector<int64_t>> chunk(const std::vector<int64_t>& order, int batch_size) {
  std::vector<std::vector<int64_t>> batches;
  const auto step = static_cast<size_t>(batch_size);
  for (size_t first = 0; first < order.size(); first += step) {
    const size_t last = std::min(order.size(), first + step);
    batches.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(first),
                         order.begin() + static_cast<std::ptrdiff_t>(last));
  }
  return batches;
}

// Starts of spans of `span` frames every `stride` frames within `length` frames, plus one span
// ending exactly at the end when the regular starts leave a tail uncovered.
std::vector<int64_t> span_starts(int64_t length, int64_t span, int64_t stride) {
  std::vector<int64_t> starts;
  for (int64_t start = 0; start + span <= length; start += stride)
    starts.push_back(start);
  if (starts.back() + span < length) starts.push_back(length - span);
  return starts;
}

}  // namespace

Framing parse_framing(std::string_view name) {
  if (name == "full") return Framing::kFull;
  if (name == "bucket") return Framing::kBucket;
  if (name == "window") return Framing::kWindow;
  if (name == "segments") return Framing::kSegments;
  throw ConfigError(
      fmt::format("data.framing = \"{}\": valid values are full, bucket, window, segments", name));
}

void validate_loader_options(const LoaderOptions& options) {
  const auto check = [](bool ok, std::string_view key, int64_t value, std::string_view valid) {
    if (!ok) throw ConfigError(fmt::format("{} = {}: must be {}", key, value, valid));
  };
  check(options.batch_size >= 1, "data.batch_size", options.batch_size, ">= 1");
  check(options.window >= 1, "data.window", options.window, ">= 1");
  check(options.stride >= 1, "data.stride", options.stride, ">= 1");
  check(options.context_frames >= 1, "data.context_frames", options.context_frames, ">= 1");
  check(options.target_frames >= 1, "data.target_frames", options.target_frames, ">= 1");
  check(options.max_transpose >= 0 && options.max_transpose <= 12, "data.max_transpose",
        options.max_transpose, "in 0..12 semitones");
  check(options.threads >= 0, "threads.loader", options.threads, ">= 0");
  check(options.prefetch >= 1, "data.prefetch", options.prefetch, ">= 1");
}

std::vector<SampleSpan> frame_samples(const SplitRolls& split, const LoaderOptions& options) {
  std::vector<SampleSpan> samples;
  for (int64_t s = 0; s < split.sequences(); ++s) {
    const int64_t length = split.length(s);
    switch (options.framing) {
      case Framing::kFull:
      case Framing::kBucket:
        samples.push_back({s, 0, length});
        break;
      case Framing::kWindow:
        if (length <= options.window) {
          samples.push_back({s, 0, length});
        } else {
          for (int64_t start : span_starts(length, options.window, options.stride)) {
            samples.push_back({s, start, options.window});
          }
        }
        break;
      case Framing::kSegments: {
        const int64_t span = options.context_frames + options.target_frames;
        if (length <= options.context_frames) break;  // no frame left to predict
        if (length <= span) {
          samples.push_back({s, 0, length});
        } else {
          for (int64_t start : span_starts(length, span, options.stride)) {
            samples.push_back({s, start, span});
          }
        }
        break;
      }
    }
  }
  if (samples.empty()) {
    int64_t longest = 0;
    for (int64_t s = 0; s < split.sequences(); ++s)
      longest = std::max(longest, split.length(s));
    throw ConfigError(fmt::format(
        "the split ({} sequences, longest {} frames) yields no sample: framing = segments needs "
        "a sequence longer than data.context_frames = {} frames",
        split.sequences(), longest, options.context_frames));
  }
  return samples;
}

std::vector<std::vector<int64_t>> plan_epoch(const std::vector<SampleSpan>& samples,
                                             const LoaderOptions& options, int64_t epoch) {
  std::vector<int64_t> order(samples.size());
  std::iota(order.begin(), order.end(), int64_t{0});
  CounterRng rng(derive_key(options.seed, static_cast<uint64_t>(epoch), kEpochStream, kShuffleTag));
  if (options.shuffle) shuffle_in_place(order, rng);
  if (options.framing != Framing::kBucket) return chunk(order, options.batch_size);

  // Bucketing: sort the (shuffled) samples by length so that batches hold similar lengths, then
  // shuffle the order of the batches.
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return samples[a].frames < samples[b].frames; });
  auto batches = chunk(order, options.batch_size);
  if (options.shuffle) {
    std::vector<int64_t> batch_order(batches.size());
    std::iota(batch_order.begin(), batch_order.end(), int64_t{0});
    shuffle_in_place(batch_order, rng);
    std::vector<std::vector<int64_t>> shuffled;
    shuffled.reserve(batches.size());
    for (int64_t b : batch_order)
      shuffled.push_back(std::move(batches[b]));
    return shuffled;
  }
  return batches;
}

Loader::Loader(std::shared_ptr<const SplitRolls> split, const LoaderOptions& options,
               LoaderPosition start)
    : split_(std::move(split)), options_(options), position_(start), plan_cursor_(start) {
  validate_loader_options(options_);
  if (split_->sequences() == 0) throw InputError("the loader was given a split with no sequences");
  samples_ = frame_samples(*split_, options_);
  batches_per_epoch_ =
      (static_cast<int64_t>(samples_.size()) + options_.batch_size - 1) / options_.batch_size;
  if (start.epoch < 0 || start.batch < 0 || start.batch >= batches_per_epoch_) {
    throw InputError(fmt::format(
        "loader position epoch {} batch {} is outside the stream: batch must be in 0..{} (the "
        "epoch has {} batches; was the checkpoint made with other data or batch settings?)",
        start.epoch, start.batch, batches_per_epoch_ - 1, batches_per_epoch_));
  }
  if (options_.threads > 0) producer_ = std::thread([this] { produce(); });
}

Loader::~Loader() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  queue_changed_.notify_all();
  if (producer_.joinable()) producer_.join();
}

int64_t Loader::max_batches_held() const {
  return options_.threads == 0 ? 1 : options_.prefetch + options_.threads;
}

void Loader::count_held(int64_t delta) {
  const int64_t now = held_.fetch_add(delta) + delta;
  int64_t peak = peak_held_.load();
  while (now > peak && !peak_held_.compare_exchange_weak(peak, now)) {
  }
}

Loader::Plan Loader::take_plan(LoaderPosition& cursor) {
  if (cached_epoch_ != cursor.epoch) {
    cached_plan_ = plan_epoch(samples_, options_, cursor.epoch);
    cached_epoch_ = cursor.epoch;
  }
  Plan plan{cursor.epoch, cursor.batch, cached_plan_[static_cast<size_t>(cursor.batch)]};
  if (++cursor.batch == batches_per_epoch_) {
    cursor.batch = 0;
    ++cursor.epoch;
  }
  return plan;
}

Batch Loader::assemble(const Plan& plan) const {
  const int pitches = split_->pitches;
  const auto batch_size = static_cast<int64_t>(plan.sample_ids.size());
  Batch batch;
  batch.epoch = plan.epoch;
  batch.index = plan.index;
  batch.batch_size = static_cast<int>(batch_size);
  batch.pitches = pitches;
  batch.samples.reserve(plan.sample_ids.size());

  const bool segments = options_.framing == Framing::kSegments;
  switch (options_.framing) {
    case Framing::kFull:
    case Framing::kBucket:
      for (int64_t id : plan.sample_ids) {
        batch.inputs.steps = std::max(batch.inputs.steps, samples_[id].frames);
      }
      break;
    case Framing::kWindow:
      batch.inputs.steps = options_.window;
      break;
    case Framing::kSegments:
      batch.inputs.steps = options_.context_frames;
      batch.targets.steps = options_.target_frames;
      break;
  }
  for (FrameBlock* block : {&batch.inputs, &batch.targets}) {
    block->frames.assign(static_cast<size_t>(block->steps * batch_size * pitches), 0.0f);
    block->mask.assign(static_cast<size_t>(block->steps * batch_size), 0.0f);
  }
  // Frames [first, first + count) of a sample go to rows 0..count-1 of `block`, column b.
  const auto fill = [&](FrameBlock& block, int64_t b, const uint8_t* first, int64_t count,
                        int shift) {
    write_transposed_frames(first, count, pitches, shift, block.frames.data() + b * pitches,
                            batch_size * pitches, options_.fixed_columns);
    for (int64_t t = 0; t < count; ++t)
      block.mask[static_cast<size_t>(t * batch_size + b)] = 1.0f;
  };

  for (int64_t b = 0; b < batch_size; ++b) {
    const int64_t id = plan.sample_ids[static_cast<size_t>(b)];
    const SampleSpan& span = samples_[static_cast<size_t>(id)];
    const PhiloxKey key = derive_key(options_.seed, static_cast<uint64_t>(plan.epoch),
                                     static_cast<uint64_t>(id), kAugmentTag);
    const uint8_t* first = split_->sequence_cells(span.sequence).data() + span.start * pitches;
    const int shift = options_.fixed_columns == 0
                          ? draw_transpose(key, options_.max_transpose)
                          : draw_transpose_in_range(key, options_.max_transpose, first, span.frames,
                                                    pitches, options_.fixed_columns);
    if (segments) {
      fill(batch.inputs, b, first, options_.context_frames, shift);
      fill(batch.targets, b, first + options_.context_frames * pitches,
           span.frames - options_.context_frames, shift);
    } else {
      fill(batch.inputs, b, first, span.frames, shift);
    }
    batch.samples.push_back({span.sequence, span.start, span.frames, shift});
  }
  return batch;
}

void Loader::produce() {
  try {
    tbb::task_arena arena(options_.threads);
    arena.execute([this] {
      tbb::parallel_pipeline(
          static_cast<size_t>(options_.threads),
          tbb::make_filter<void, Plan>(tbb::filter_mode::serial_in_order,
                                       [this](tbb::flow_control& control) {
                                         {
                                           std::lock_guard lock(mutex_);
                                           if (stopping_) {
                                             control.stop();
                                             return Plan{};
                                           }
                                         }
                                         count_held(1);
                                         return take_plan(plan_cursor_);
                                       }) &
              tbb::make_filter<Plan, Batch>(tbb::filter_mode::parallel,
                                            [this](const Plan& plan) { return assemble(plan); }) &
              tbb::make_filter<Batch, void>(tbb::filter_mode::serial_in_order, [this](Batch batch) {
                std::unique_lock lock(mutex_);
                queue_changed_.wait(lock, [this] {
                  return stopping_ || queue_.size() < static_cast<size_t>(options_.prefetch);
                });
                if (stopping_) {
                  count_held(-1);
                  return;
                }
                queue_.push_back(std::move(batch));
                queue_changed_.notify_all();
              }));
    });
  } catch (...) {
    std::lock_guard lock(mutex_);
    failure_ = std::current_exception();
  }
  queue_changed_.notify_all();
}

Batch Loader::next() {
  Batch batch;
  if (options_.threads == 0) {
    count_held(1);
    batch = assemble(take_plan(plan_cursor_));
    count_held(-1);
  } else {
    std::unique_lock lock(mutex_);
    queue_changed_.wait(lock, [this] { return !queue_.empty() || failure_ != nullptr; });
    if (queue_.empty()) std::rethrow_exception(failure_);
    batch = std::move(queue_.front());
    queue_.pop_front();
    count_held(-1);
    lock.unlock();
    queue_changed_.notify_all();
  }
  position_ = {batch.epoch, batch.index + 1};
  if (position_.batch == batches_per_epoch_) position_ = {batch.epoch + 1, 0};
  return batch;
}

}  // namespace cadenza
