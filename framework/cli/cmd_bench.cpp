// `cadenza bench --config FILE [--steps N]`: times full training steps (forward, loss, backward,
// clipping, optimiser update) of the configured model on synthetic frames of the configured
// shape (models/variant_cost.hpp), and prints one JSON line. No dataset is read. Under mpirun the
// step is the data-parallel one of `cadenza train` (train/data_parallel.hpp): each rank computes
// its share of the batch and the ranks sum the gradients; rank 0 prints, with the time the sums
// took.
//
// The machine is shared, so its speed drifts within seconds. The timed steps therefore come in
// blocks of four, each block after one sgemm of a fixed shape on the same threads, and a step's
// efficiency is its model GFLOP/s over its block's sgemm GFLOP/s: "fraction_of_sgemm_peak" is
// the median of these per-step ratios, a ratio measured in one run.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>

#include "cli/commands.hpp"
#include "config/resolve.hpp"
#include "core/error.hpp"
#include "core/rng.hpp"
#include "core/stats.hpp"
#include "core/threads.hpp"
#include "distributed/communicator.hpp"
#include "models/model.hpp"
#include "models/variant_cost.hpp"
#include "train/data_parallel.hpp"
#include "train/optimizer.hpp"

namespace cadenza::cli {
namespace {

// The sgemm peak reference: the larger (and faster) shape of BM_gemm_sgemm,
// C [4096, 2048] = A [4096, 1024] x B [1024, 2048], about 80 ms on 2 cores.
class SgemmProbe {
 public:
  SgemmProbe() : a_(kM * kK), b_(kK * kN), c_(kM * kN) {
    CounterRng rng(derive_key(0x5E3A, 0));
    for (float& v : a_)
      v = 2.0f * rng.uniform() - 1.0f;
    for (float& v : b_)
      v = 2.0f * rng.uniform() - 1.0f;
  }

  // GFLOP/s of one sgemm call.
  double measure() {
    const auto start = std::chrono::steady_clock::now();
    dnnl_sgemm('N', 'N', kM, kN, kK, 1.0f, a_.data(), kK, b_.data(), kN, 0.0f, c_.data(), kN);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return 2.0 * kM * kN * kK / seconds / 1e9;
  }

 private:
  static constexpr int64_t kM = 4096, kN = 2048, kK = 1024;
  std::vector<float> a_, b_, c_;
};

}  // namespace

void add_bench_command(CLI::App& app, Action& action) {
  struct Options {
    std::string config_file;
    std::vector<std::string> overrides;
    int steps = 20;
    int warmup = 3;
  };
  auto options = std::make_shared<Options>();
  CLI::App* command = app.add_subcommand(
      "bench", "Time training steps of a configured model on synthetic data; prints one JSON line");
  command->add_option("--config", options->config_file, "Experiment JSON file")->required();
  command->add_option("overrides", options->overrides, "Overrides key.path=value after the file");
  command->add_option("--steps", options->steps, "Timed steps")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  command->add_option("--warmup", options->warmup, "Untimed steps first (primitive creation)")
      ->check(CLI::Range(0, 1000))
      ->capture_default_str();
  command->callback([options, &action] {
    action = [options] {
      const auto resolved = config::resolve_experiment(options->config_file, options->overrides);
      const auto& config = resolved.config;
      const ThreadBudget budget =
          resolve_thread_budget(config.threads.compute, 0, available_cores());
      ThreadScope scope(budget);
      auto model = build_model(config.model, kSyntheticPitches, config.data.context_frames,
                               config.data.target_frames);
      model->init(static_cast<uint64_t>(config.seed));
      model->set_training(true);
      const auto parameters = model->parameters();
      Optimizer optimizer(config.train.optimizer, parameters);
      const Communicator& world = Communicator::world();
      DataParallelStep data_parallel(world, world.size(), parameters);
      const Batch batch = synthetic_batch(config);
      const double flops = training_step_flops(config);
      uint64_t step = 0;
      double frames = 0.0;
      std::vector<double> reduce_ms;
      // One training step (its index seeds dropout); returns its wall time in ms.
      const auto train_step = [&] {
        const auto start = std::chrono::steady_clock::now();
        const LossValue loss =
            data_parallel.run(*model, batch, nullptr, static_cast<uint64_t>(config.seed), step++);
        reduce_ms.push_back(1e3 * data_parallel.reduce_seconds());
        clip_grad_norm(parameters, config.train.clip_norm);
        optimizer.step(config.train.optimizer.lr);
        frames = static_cast<double>(loss.scored_frames);
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count();
      };
      for (int i = 0; i < options->warmup; ++i)
        train_step();
      // Blocks of kStepsPerProbe timed steps, each after one sgemm and one untimed step that
      // brings the model's weights back into the caches that the sgemm's 56 MB of operands evicted.
      constexpr int kStepsPerProbe = 4;
      SgemmProbe sgemm;
      std::vector<double> step_ms, sgemm_gflops, fraction_of_peak;
      while (static_cast<int>(step_ms.size()) < options->steps) {
        const double peak = sgemm.measure();
        sgemm_gflops.push_back(peak);
        train_step();
        for (int k = 0; k < kStepsPerProbe && static_cast<int>(step_ms.size()) < options->steps;
             ++k) {
          const double ms = train_step();
          step_ms.push_back(ms);
          fraction_of_peak.push_back(flops / (ms / 1e3) / 1e9 / peak);
        }
      }
      const double step_ms_median = stats::median(step_ms);
      if (!world.is_root()) return 0;
      const nlohmann::json result = {
          {"frames_per_s", frames / (step_ms_median / 1e3)},
          {"step_ms_median", step_ms_median},
          {"model_gflops_per_s", flops / (step_ms_median / 1e3) / 1e9},
          {"sgemm_gflops_per_s", stats::median(sgemm_gflops)},
          {"fraction_of_sgemm_peak", stats::median(fraction_of_peak)},
          {"threads", budget.compute},
          {"ranks", world.size()},
          {"reduce_ms_median", stats::median(reduce_ms)},
          {"steps", options->steps},
          {"model", config::name_of(config.model.type)},
          {"precision", config.model.precision},
      };
      std::cout << result.dump() << "\n";
      return 0;
    };
  });
}

}  // namespace cadenza::cli
