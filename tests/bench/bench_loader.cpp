// Loader throughput on Nottingham's training split (694 sequences, 176,561 frames) with
// transposition augmentation (max_transpose 6), for 1 and 2 loader threads (0 = inline, for
// reference). The .mat is imported into a temporary .h5 once and the split read back from it, as
// training does. User counters: batches/s, frames/s (real frames, mask = 1) and padded_frames/s
// (T x B, what a trainer computes on).
#include <benchmark/benchmark.h>

#include <filesystem>
#include <memory>

#include "data/dataset.hpp"
#include "data/loader.hpp"
#include "data/mat_import.hpp"

namespace cadenza {
namespace {

std::shared_ptr<const SplitRolls> nottingham_train() {
  static const std::shared_ptr<const SplitRolls> split = [] {
    const auto mat = std::filesystem::path(CADENZA_SOURCE_DIR) / ".." / "shared" / "datasets" /
                     "polyphonic" / "Nottingham.mat";
    const auto h5 = std::filesystem::temp_directory_path() / "cadenza-bench-nottingham.h5";
    write_dataset(h5, import_mat(mat, "Nottingham"));
    auto train = std::make_shared<const SplitRolls>(read_split(h5, "train"));
    std::filesystem::remove(h5);
    return train;
  }();
  return split;
}

void run_loader(benchmark::State& state, LoaderOptions options) {
  options.threads = static_cast<int>(state.range(0));
  options.max_transpose = 6;
  options.seed = 1;
  options.prefetch = 4;
  Loader loader(nottingham_train(), options);
  double frames = 0;
  double padded_frames = 0;
  for (auto _ : state) {
    const Batch batch = loader.next();
    for (float m : batch.inputs.mask)
      frames += m;
    for (float m : batch.targets.mask)
      frames += m;
    padded_frames += static_cast<double>(batch.inputs.mask.size() + batch.targets.mask.size());
    benchmark::DoNotOptimize(batch.inputs.frames.data());
  }
  state.counters["batches/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["frames/s"] = benchmark::Counter(frames, benchmark::Counter::kIsRate);
  state.counters["padded_frames/s"] =
      benchmark::Counter(padded_frames, benchmark::Counter::kIsRate);
}

// The quickstart's framing: whole sequences, batch 8.
void BM_loader_full_b8(benchmark::State& state) {
  LoaderOptions options;
  options.framing = Framing::kFull;
  options.batch_size = 8;
  run_loader(state, options);
}
BENCHMARK(BM_loader_full_b8)->Arg(0)->Arg(1)->Arg(2)->UseRealTime()->MinTime(2.0);

// Windows of 128 frames every 64, batch 32 (the LSTM benchmark shape).
void BM_loader_window128_b32(benchmark::State& state) {
  LoaderOptions options;
  options.framing = Framing::kWindow;
  options.batch_size = 32;
  options.window = 128;
  options.stride = 64;
  run_loader(state, options);
}
BENCHMARK(BM_loader_window128_b32)->Arg(0)->Arg(1)->Arg(2)->UseRealTime()->MinTime(2.0);

// Encoder-decoder segments: 64 frames of context, 64 of target, every 32 frames, batch 32.
void BM_loader_segments_b32(benchmark::State& state) {
  LoaderOptions options;
  options.framing = Framing::kSegments;
  options.batch_size = 32;
  options.context_frames = 64;
  options.target_frames = 64;
  options.stride = 32;
  run_loader(state, options);
}
BENCHMARK(BM_loader_segments_b32)->Arg(1)->Arg(2)->UseRealTime()->MinTime(2.0);

}  // namespace
}  // namespace cadenza
