// Generation speed (generate/generator.hpp) for the quickstart models: one LSTM layer of 128
// units over 88 keys; seq2seq with 32 context and 32 target frames. Each iteration continues a
// 16-frame primer by 128 frames for K samples at once (K = 1: single stream; K = 32: batched),
// sampling included. Counters: "frames/s" = generated frames summed over the samples per second;
// "steps/s" = model steps (one frame of every sample) per second.
#include <benchmark/benchmark.h>

#include "generate/generator.hpp"
#include "models/model.hpp"

namespace cadenza {
namespace {

constexpr int kPitches = 88;
constexpr int64_t kPrimerFrames = 16;
constexpr int64_t kGeneratedFrames = 128;

config::ModelConfig quickstart_model(config::ModelType type, config::AttentionKind attention,
                                     config::AttentionStyle style) {
  config::ModelConfig config;
  config.type = type;
  config.attention = attention;
  config.attention_style = style;
  config.layers = 1;
  config.hidden_size = 128;
  return config;
}

// A primer with a C major triad (C4 E4 G4) in every frame.
PianoRoll triad_primer() {
  PianoRoll primer;
  primer.frames = kPrimerFrames;
  primer.cells.assign(static_cast<size_t>(kPrimerFrames * kPitches), 0);
  for (int64_t t = 0; t < kPrimerFrames; ++t) {
    for (const int pitch : {60, 64, 67})
      primer.at(t, pitch - 21) = 1;
  }
  return primer;
}

void generate(benchmark::State& state, const config::ModelConfig& config) {
  auto model = build_model(config, kPitches, 32, 32);
  model->init(1);
  for (const auto& named : model->parameters()) {
    if (named.name == "decoder/output/b") named.parameter->value.fill(-2.0f);
  }
  const PianoRoll primer = triad_primer();
  GenerationOptions options;
  options.frames = kGeneratedFrames;
  options.samples = static_cast<int>(state.range(0));
  generate_samples(*model, primer, options);  // builds and caches the primitives
  for (auto _ : state) {
    auto samples = generate_samples(*model, primer, options);
    benchmark::DoNotOptimize(samples.data());
  }
  state.counters["frames/s"] =
      benchmark::Counter(static_cast<double>(kGeneratedFrames * state.range(0)),
                         benchmark::Counter::kIsIterationInvariantRate);
  state.counters["steps/s"] = benchmark::Counter(static_cast<double>(kGeneratedFrames),
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

void BM_generate_lm(benchmark::State& state) {
  generate(state, quickstart_model(config::ModelType::lm, config::AttentionKind::none,
                                   config::AttentionStyle::luong));
}
void BM_generate_seq2seq(benchmark::State& state) {
  generate(state, quickstart_model(config::ModelType::seq2seq, config::AttentionKind::none,
                                   config::AttentionStyle::luong));
}
void BM_generate_seq2seq_luong_general(benchmark::State& state) {
  generate(state, quickstart_model(config::ModelType::seq2seq, config::AttentionKind::general,
                                   config::AttentionStyle::luong));
}
void BM_generate_seq2seq_bahdanau_additive(benchmark::State& state) {
  generate(state, quickstart_model(config::ModelType::seq2seq, config::AttentionKind::additive,
                                   config::AttentionStyle::bahdanau));
}

BENCHMARK(BM_generate_lm)
    ->ArgName("K")
    ->Arg(1)
    ->Arg(32)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_generate_seq2seq)
    ->ArgName("K")
    ->Arg(1)
    ->Arg(32)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_generate_seq2seq_luong_general)
    ->ArgName("K")
    ->Arg(1)
    ->Arg(32)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_generate_seq2seq_bahdanau_additive)
    ->ArgName("K")
    ->Arg(1)
    ->Arg(32)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace cadenza
