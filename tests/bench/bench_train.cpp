// The per-step work of training outside the layers: one optimiser update of every parameter and
// the gradient clipping (global norm in double, then the scale), on the 0.99M parameters of
// bai2018_gru_nottingham (2 x 312 GRU over 88 keys), where a batch-1 step is about 20 ms. One
// thread (the sweeps' worker setting). Items processed = parameters updated.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "config/experiment_config.hpp"
#include "core/rng.hpp"
#include "core/threads.hpp"
#include "nn/parameter.hpp"
#include "train/optimizer.hpp"

namespace cadenza {
namespace {

// The GRU lm's parameter shapes: W_ih, W_hh, b_ih, b_hh per layer, then the output layer.
std::vector<std::unique_ptr<Parameter>> gru_lm_parameters() {
  constexpr int64_t kKeys = 88, kHidden = 312;
  std::vector<std::unique_ptr<Parameter>> made;
  for (int layer = 0; layer < 2; ++layer) {
    const int64_t input = layer == 0 ? kKeys : kHidden;
    const std::string prefix = "layer" + std::to_string(layer) + "/";
    made.push_back(std::make_unique<Parameter>(prefix + "W_ih", std::vector{3 * kHidden, input}));
    made.push_back(std::make_unique<Parameter>(prefix + "W_hh", std::vector{3 * kHidden, kHidden}));
    made.push_back(std::make_unique<Parameter>(prefix + "b_ih", std::vector{3 * kHidden}));
    made.push_back(std::make_unique<Parameter>(prefix + "b_hh", std::vector{3 * kHidden}));
  }
  made.push_back(std::make_unique<Parameter>("output/W", std::vector{kKeys, kHidden}));
  made.push_back(std::make_unique<Parameter>("output/b", std::vector{kKeys}));
  CounterRng rng(derive_key(5));
  for (auto& p : made) {
    for (int64_t i = 0; i < p->grad.numel(); ++i) {
      p->value[i] = rng.uniform() - 0.5f;
      p->grad[i] = 1e-3f * (rng.uniform() - 0.5f);
    }
  }
  return made;
}

std::vector<NamedParameter> named(const std::vector<std::unique_ptr<Parameter>>& made) {
  std::vector<NamedParameter> result;
  for (const auto& p : made)
    result.push_back({p->name, p.get()});
  return result;
}

int64_t count(const std::vector<std::unique_ptr<Parameter>>& made) {
  int64_t total = 0;
  for (const auto& p : made)
    total += p->value.numel();
  return total;
}

// One Adam (or AdamW, RMSProp, SGD) step over every parameter.
void BM_optimizer_step(benchmark::State& state, const char* name) {
  const ThreadScope threads(ThreadBudget{1, 1, 0});
  const auto made = gru_lm_parameters();
  config::OptimizerConfig config;
  config.name = name;
  config.weight_decay = 0.0;
  Optimizer optimizer(config, named(made));
  for (auto _ : state)
    optimizer.step(1e-3);
  state.SetItemsProcessed(state.iterations() * count(made));
}
BENCHMARK_CAPTURE(BM_optimizer_step, adam, "adam")->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_optimizer_step, rmsprop, "rmsprop")
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_optimizer_step, sgd, "sgd")->UseRealTime()->Unit(benchmark::kMicrosecond);

// The global norm and, since max_norm is below it, the scaling of every gradient.
void BM_clip_grad_norm(benchmark::State& state) {
  const ThreadScope threads(ThreadBudget{1, 1, 0});
  const auto made = gru_lm_parameters();
  const auto parameters = named(made);
  for (auto _ : state)
    benchmark::DoNotOptimize(clip_grad_norm(parameters, 1e-6));
  state.SetItemsProcessed(state.iterations() * count(made));
}
BENCHMARK(BM_clip_grad_norm)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace cadenza
