// The batch loader: framings, padding and masks, seeded shuffling, transposition, bit-identical
// streams for 0, 1 and 2 loader threads, exact resume, and bounded prefetch.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "core/sha256.hpp"
#include "data/augment.hpp"
#include "data/loader.hpp"
#include "data/mat_import.hpp"
#include "support/process.hpp"
#include "support/wait.hpp"

namespace cadenza {
namespace {

constexpr int kPitches = 16;

// Sequences of the given lengths with random 0/1 cells.
std::shared_ptr<const SplitRolls> synthetic_split(const std::vector<int64_t>& lengths) {
  auto split = std::make_shared<SplitRolls>();
  split->pitches = kPitches;
  CounterRng rng(derive_key(11));
  for (size_t i = 0; i < lengths.size(); ++i) {
    PianoRoll roll;
    roll.frames = lengths[i];
    roll.pitches = kPitches;
    roll.cells.resize(static_cast<size_t>(lengths[i] * kPitches));
    for (auto& cell : roll.cells)
      cell = rng.uniform() < 0.3f ? 1 : 0;
    split->append(roll, fmt::format("s{}", i));
  }
  return split;
}

std::shared_ptr<const SplitRolls> jsb_train() {
  static const auto split = std::make_shared<const SplitRolls>(
      import_mat(testing::shared_dir() / "datasets" / "polyphonic" / "JSB_Chorales.mat", "JSB")
          .splits[0]);
  return split;
}

// Checks that `block` column b holds frames [start, start + frames) of `sequence` shifted by
// `shift` (notes leaving the range dropped), with mask 1 there and zeros after.
void expect_sample(const SplitRolls& split, const FrameBlock& block, int batch_size, int b,
                   int64_t sequence, int64_t start, int64_t frames, int shift) {
  const int pitches = split.pitches;
  const auto source = split.sequence_cells(sequence);
  for (int64_t t = 0; t < block.steps; ++t) {
    const float mask = block.mask[static_cast<size_t>(t * batch_size + b)];
    ASSERT_EQ(mask, t < frames ? 1.0f : 0.0f) << "t=" << t << " b=" << b;
    for (int p = 0; p < pitches; ++p) {
      const int from = p - shift;
      const float expected =
          (t < frames && from >= 0 && from < pitches)
              ? static_cast<float>(source[static_cast<size_t>((start + t) * pitches + from)])
              : 0.0f;
      ASSERT_EQ(block.frames[static_cast<size_t>((t * batch_size + b) * pitches + p)], expected)
          << "t=" << t << " b=" << b << " p=" << p;
    }
  }
}

// Every byte of a batch that a trainer could observe.
std::string batch_digest(const Batch& batch) {
  std::string bytes;
  const auto add = [&bytes](const void* data, size_t size) {
    bytes.append(static_cast<const char*>(data), size);
  };
  add(&batch.epoch, sizeof batch.epoch);
  add(&batch.index, sizeof batch.index);
  add(&batch.batch_size, sizeof batch.batch_size);
  for (const FrameBlock* block : {&batch.inputs, &batch.targets}) {
    add(&block->steps, sizeof block->steps);
    add(block->frames.data(), block->frames.size() * sizeof(float));
    add(block->mask.data(), block->mask.size() * sizeof(float));
  }
  for (const auto& sample : batch.samples) {
    const int64_t fields[4] = {sample.sequence, sample.start_frame, sample.frames,
                               sample.transpose};
    add(fields, sizeof fields);
  }
  return sha256_hex(bytes);
}

std::vector<std::string> stream_digests(std::shared_ptr<const SplitRolls> split,
                                        const LoaderOptions& options, int64_t batches,
                                        LoaderPosition start = {}) {
  Loader loader(std::move(split), options, start);
  std::vector<std::string> digests;
  for (int64_t i = 0; i < batches; ++i)
    digests.push_back(batch_digest(loader.next()));
  return digests;
}

TEST(LoaderFraming, FullBatchesPadToTheLongestAndMaskThePadding) {
  const auto split = synthetic_split({5, 3, 12, 7, 2});
  LoaderOptions options;
  options.framing = Framing::kFull;
  options.batch_size = 2;
  options.shuffle = false;
  Loader loader(split, options);
  EXPECT_EQ(loader.batches_per_epoch(), 3);
  const Batch first = loader.next();
  EXPECT_EQ(first.batch_size, 2);
  EXPECT_EQ(first.inputs.steps, 5);
  EXPECT_EQ(first.targets.steps, 0);
  EXPECT_TRUE(first.targets.frames.empty());
  expect_sample(*split, first.inputs, 2, 0, 0, 0, 5, 0);
  expect_sample(*split, first.inputs, 2, 1, 1, 0, 3, 0);
  EXPECT_EQ(loader.next().inputs.steps, 12);
  const Batch last = loader.next();
  EXPECT_EQ(last.batch_size, 1);  // 5 sequences in batches of 2: the last batch has 1
  EXPECT_EQ(last.samples[0].sequence, 4);
  EXPECT_EQ(loader.position(), (LoaderPosition{1, 0}));
  EXPECT_EQ(loader.next().epoch, 1);
}

TEST(LoaderFraming, WindowsCoverEverySequenceIncludingItsTail) {
  const auto split = synthetic_split({12, 3, 5});
  LoaderOptions options;
  options.framing = Framing::kWindow;
  options.window = 4;
  options.stride = 3;
  const auto samples = frame_samples(*split, options);
  const std::vector<std::array<int64_t, 3>> expected = {
      {0, 0, 4}, {0, 3, 4}, {0, 6, 4}, {0, 8, 4},  // 0,3,6 then one ending at frame 12
      {1, 0, 3},                                   // shorter than a window: padded
      {2, 0, 4}, {2, 1, 4}};
  ASSERT_EQ(samples.size(), expected.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    EXPECT_EQ((std::array<int64_t, 3>{samples[i].sequence, samples[i].start, samples[i].frames}),
              expected[i])
        << i;
  }
  options.shuffle = false;
  options.batch_size = 7;
  Loader loader(split, options);
  const Batch batch = loader.next();
  EXPECT_EQ(batch.inputs.steps, 4);
  for (int b = 0; b < 7; ++b) {
    expect_sample(*split, batch.inputs, 7, b, expected[b][0], expected[b][1], expected[b][2], 0);
  }
}

TEST(LoaderFraming, SegmentsCarryAFullContextAndAMaskedTarget) {
  const auto split = synthetic_split({3, 5, 9});
  LoaderOptions options;
  options.framing = Framing::kSegments;
  options.context_frames = 3;
  options.target_frames = 2;
  options.stride = 2;
  options.shuffle = false;
  options.batch_size = 4;
  // Length 3 has nothing to predict; 5 is one exact segment; 9 gives starts 0, 2, 4.
  const auto samples = frame_samples(*split, options);
  ASSERT_EQ(samples.size(), 4u);
  Loader loader(split, options);
  const Batch batch = loader.next();
  EXPECT_EQ(batch.inputs.steps, 3);
  EXPECT_EQ(batch.targets.steps, 2);
  const std::vector<std::array<int64_t, 2>> starts = {{1, 0}, {2, 0}, {2, 2}, {2, 4}};
  for (int b = 0; b < 4; ++b) {
    const auto [sequence, start] = starts[static_cast<size_t>(b)];
    EXPECT_EQ(batch.samples[static_cast<size_t>(b)].sequence, sequence);
    EXPECT_EQ(batch.samples[static_cast<size_t>(b)].start_frame, start);
    expect_sample(*split, batch.inputs, 4, b, sequence, start, 3, 0);
    expect_sample(*split, batch.targets, 4, b, sequence, start + 3, 2, 0);
  }
  // A segment whose target runs past the end: context 3 + target 1 real frame of a 4-frame tune.
  const auto short_split = synthetic_split({4});
  Loader short_loader(short_split, options);
  const Batch short_batch = short_loader.next();
  expect_sample(*short_split, short_batch.targets, 1, 0, 0, 3, 1, 0);

  options.context_frames = 20;
  EXPECT_THROW(Loader(split, options), ConfigError);
}

TEST(LoaderFraming, BucketsHoldSimilarLengthsAndEveryEpochCoversEverySampleOnce) {
  std::vector<int64_t> lengths;
  for (int i = 0; i < 40; ++i)
    lengths.push_back(1 + (i * 37) % 50);
  const auto split = synthetic_split(lengths);
  LoaderOptions options;
  options.framing = Framing::kBucket;
  options.batch_size = 8;
  options.seed = 3;
  const auto samples = frame_samples(*split, options);
  std::vector<std::vector<std::vector<int64_t>>> epochs;
  for (int64_t epoch = 0; epoch < 3; ++epoch) {
    const auto batches = plan_epoch(samples, options, epoch);
    std::multiset<int64_t> seen;
    int64_t padding = 0;
    for (const auto& batch : batches) {
      int64_t longest = 0;
      for (int64_t id : batch)
        longest = std::max(longest, samples[id].frames);
      for (int64_t id : batch)
        padding += longest - samples[id].frames;
      seen.insert(batch.begin(), batch.end());
    }
    EXPECT_EQ(seen.size(), samples.size());
    EXPECT_EQ(std::set<int64_t>(seen.begin(), seen.end()).size(), samples.size());
    // Sorted buckets of 8 over lengths spread 1..50 waste far less than random batches would.
    EXPECT_LT(padding, 40 * 8);
    epochs.push_back(batches);
  }
  EXPECT_NE(epochs[0], epochs[1]);  // the batch order is reshuffled each epoch
  EXPECT_EQ(plan_epoch(samples, options, 1), epochs[1]);
}

TEST(LoaderAugment, TranspositionDropsNotesThatLeaveTheRange) {
  const uint8_t roll[2 * 4] = {1, 0, 0, 1,  //
                               0, 1, 1, 0};
  std::vector<float> up(8, 0.0f);
  write_transposed_frames(roll, 2, 4, 1, up.data(), 4);
  EXPECT_EQ(up, (std::vector<float>{0, 1, 0, 0, 0, 0, 1, 1}));
  std::vector<float> down(8, 0.0f);
  write_transposed_frames(roll, 2, 4, -2, down.data(), 4);
  EXPECT_EQ(down, (std::vector<float>{0, 1, 0, 0, 1, 0, 0, 0}));

  std::set<int> drawn;
  for (uint64_t sample = 0; sample < 500; ++sample) {
    const int shift = draw_transpose(derive_key(5, 0, sample), 3);
    EXPECT_EQ(shift, draw_transpose(derive_key(5, 0, sample), 3));
    drawn.insert(shift);
  }
  EXPECT_EQ(drawn, (std::set<int>{-3, -2, -1, 0, 1, 2, 3}));
  EXPECT_EQ(draw_transpose(derive_key(5), 0), 0);
}

TEST(LoaderAugment, BatchesHoldTheTransposedSamplesTheyReport) {
  const auto split = synthetic_split({6, 9, 4, 7});
  LoaderOptions options;
  options.framing = Framing::kFull;
  options.batch_size = 4;
  options.max_transpose = 5;
  options.seed = 9;
  Loader loader(split, options);
  std::set<int> shifts;
  for (int epoch = 0; epoch < 5; ++epoch) {
    const Batch batch = loader.next();
    for (int b = 0; b < batch.batch_size; ++b) {
      const auto& sample = batch.samples[static_cast<size_t>(b)];
      EXPECT_LE(std::abs(sample.transpose), 5);
      shifts.insert(sample.transpose);
      expect_sample(*split, batch.inputs, batch.batch_size, b, sample.sequence, 0, sample.frames,
                    sample.transpose);
    }
  }
  EXPECT_GT(shifts.size(), 3u);
}

TEST(LoaderStream, BitIdenticalForZeroOneAndTwoThreads) {
  for (const Framing framing : {Framing::kWindow, Framing::kBucket, Framing::kSegments}) {
    LoaderOptions options;
    options.framing = framing;
    options.batch_size = 16;
    options.window = 64;
    options.stride = 32;
    options.max_transpose = 4;
    options.seed = 42;
    options.threads = 0;
    const auto inline_stream = stream_digests(jsb_train(), options, 60);
    options.threads = 1;
    EXPECT_EQ(stream_digests(jsb_train(), options, 60), inline_stream);
    options.threads = 2;
    options.prefetch = 2;
    EXPECT_EQ(stream_digests(jsb_train(), options, 60), inline_stream);
    std::set<std::string> distinct(inline_stream.begin(), inline_stream.end());
    EXPECT_EQ(distinct.size(), inline_stream.size());
    options.seed = 43;
    EXPECT_NE(stream_digests(jsb_train(), options, 5),
              std::vector<std::string>(inline_stream.begin(), inline_stream.begin() + 5));
  }
}

TEST(LoaderStream, RestoringASavedPositionContinuesExactly) {
  LoaderOptions options;
  options.framing = Framing::kWindow;
  options.batch_size = 32;
  options.window = 32;
  options.stride = 16;
  options.max_transpose = 6;
  options.threads = 2;
  const int64_t per_epoch = Loader(jsb_train(), options).batches_per_epoch();
  const int64_t total = per_epoch * 2 + 5;
  const auto uninterrupted = stream_digests(jsb_train(), options, total);

  // Stop mid-way through the second epoch, keep only the position, and resume in a new loader.
  const int64_t taken = per_epoch + per_epoch / 2;
  LoaderPosition saved;
  std::vector<std::string> resumed;
  {
    Loader first(jsb_train(), options);
    for (int64_t i = 0; i < taken; ++i)
      resumed.push_back(batch_digest(first.next()));
    saved = first.position();
  }
  EXPECT_EQ(saved, (LoaderPosition{1, per_epoch / 2}));
  options.threads = 0;  // the resumed run may use another thread count
  const auto rest = stream_digests(jsb_train(), options, total - taken, saved);
  resumed.insert(resumed.end(), rest.begin(), rest.end());
  EXPECT_EQ(resumed, uninterrupted);

  EXPECT_THROW(Loader(jsb_train(), options, {0, per_epoch}), InputError);
}

TEST(LoaderStream, PrefetchIsBoundedWhileTheConsumerIsSlow) {
  LoaderOptions options;
  options.framing = Framing::kWindow;
  options.batch_size = 8;
  options.window = 16;
  options.stride = 16;
  options.threads = 2;
  options.prefetch = 3;
  Loader loader(jsb_train(), options);
  // The producer races ahead: the queue fills up before the first batch is taken...
  testing::wait_until([&] { return loader.peak_batches_held() >= options.prefetch; },
                      std::chrono::seconds(60));
  // ...and the slow consumer lets it refill between batches, never beyond the bound.
  for (int i = 0; i < 40; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    loader.next();
  }
  EXPECT_LE(loader.peak_batches_held(), loader.max_batches_held());
  EXPECT_EQ(loader.max_batches_held(), 5);
  // It did prefetch (within 60 s): the queue filled up while the consumer waited.
  EXPECT_GE(loader.peak_batches_held(), options.prefetch);
}

TEST(LoaderStream, BadOptionsNameTheirKey) {
  const auto split = synthetic_split({4});
  LoaderOptions options;
  options.batch_size = 0;
  try {
    Loader loader(split, options);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("data.batch_size = 0"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_framing("windows"), ConfigError);
  EXPECT_EQ(parse_framing("segments"), Framing::kSegments);
  options = {};
  options.threads = -1;
  EXPECT_THROW(Loader(split, options), ConfigError);
  EXPECT_THROW(Loader(std::make_shared<SplitRolls>(), LoaderOptions{}), InputError);
}

}  // namespace
}  // namespace cadenza
