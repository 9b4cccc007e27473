// `cadenza bench --config FILE [--steps N]`: times full training steps (forward, loss, backward,
// clipping, optimiser update) of the configured model on synthetic frames of the configured
// shape, and prints one JSON line. No dataset is read.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "config/resolve.hpp"
#include "core/error.hpp"
#include "core/rng.hpp"
#include "core/threads.hpp"
#include "models/model.hpp"
#include "train/optimizer.hpp"

namespace cadenza::cli {
namespace {

constexpr int kPitches = 88;

// One random batch shaped like the loader's for this config: windows of data.window frames
// (lm) or context + target segments (seq2seq), keys on with probability 4/88 (JSB's density).
Batch synthetic_batch(const config::ExperimentConfig& config) {
  CounterRng rng(derive_key(static_cast<uint64_t>(config.seed), 0xBE4C));
  const auto block = [&](int64_t steps) {
    FrameBlock frames;
    frames.steps = steps;
    frames.frames.resize(static_cast<size_t>(steps * config.data.batch_size * kPitches));
    for (auto& cell : frames.frames)
      cell = rng.uniform() < 4.0f / kPitches ? 1.0f : 0.0f;
    frames.mask.assign(static_cast<size_t>(steps * config.data.batch_size), 1.0f);
    return frames;
  };
  Batch batch;
  batch.batch_size = config.data.batch_size;
  batch.pitches = kPitches;
  if (config.model.type == "lm") {
    batch.inputs = block(config.data.window);
  } else {
    batch.inputs = block(config.data.context_frames);
    batch.targets = block(config.data.target_frames);
  }
  return batch;
}

// Multiply-adds of one training step counted as 2 FLOPs each, forward + backward = 3 x forward:
// every LSTM layer 2*4H(I+H) per frame and direction, the output layer 2*H*P per frame, and for
// attention the scores and the context, 2 * 2 * S * Hk per decoder frame.
double model_flops(const config::ExperimentConfig& config) {
  const auto& m = config.model;
  const double b = config.data.batch_size;
  const auto lstm = [](double input, double hidden, double layers, double directions,
                       double frames) {
    double flops = 0.0;
    for (int l = 0; l < static_cast<int>(layers); ++l) {
      const double in = l == 0 ? input : directions * hidden;
      flops += directions * 2.0 * 4.0 * hidden * (in + hidden) * frames;
    }
    return flops;
  };
  const double h = m.hidden_size;
  if (m.type == "lm") {
    const double frames = b * (config.data.window - 1);
    return 3.0 * (lstm(kPitches, h, m.layers, 1, frames) + 2.0 * h * kPitches * frames);
  }
  const double he = m.encoder_hidden_size == 0 ? h : m.encoder_hidden_size;
  const double directions = m.bidirectional_encoder ? 2 : 1;
  const double key = directions * he;
  const double context = b * config.data.context_frames;
  const double target = b * config.data.target_frames;
  const bool attention = m.attention != "none";
  const double decoder_input = kPitches + (attention && m.attention_style == "bahdanau" ? key : 0);
  double forward = lstm(kPitches, he, m.layers, directions, context) +
                   lstm(decoder_input, h, m.layers, 1, target) + 2.0 * h * kPitches * target;
  if (attention) {
    forward += 2.0 * 2.0 * config.data.context_frames * key * target;  // scores + context
    forward += 2.0 * (key + h) * h * target;                           // combine
  }
  return 3.0 * forward;
}

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
      auto model = build_model(config.model, kPitches, config.data.context_frames,
                               config.data.target_frames);
      model->init(static_cast<uint64_t>(config.seed));
      model->set_training(true);
      const auto parameters = model->parameters();
      Optimizer optimizer(config.train.optimizer, parameters);
      const Batch batch = synthetic_batch(config);
      std::vector<double> step_ms;
      double frames = 0.0;
      for (int i = 0; i < options->warmup + options->steps; ++i) {
        const auto start = std::chrono::steady_clock::now();
        for (const auto& named : parameters)
          named.parameter->grad.zero();
        model->set_training_step(static_cast<uint64_t>(config.seed), static_cast<uint64_t>(i));
        const LossValue loss = model->train_batch(batch, {});
        clip_grad_norm(parameters, config.train.clip_norm);
        optimizer.step(config.train.optimizer.lr);
        const double ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                .count();
        if (i >= options->warmup) {
          step_ms.push_back(ms);
          frames = static_cast<double>(loss.scored_frames);
        }
      }
      std::sort(step_ms.begin(), step_ms.end());
      const double median = step_ms[step_ms.size() / 2];
      const nlohmann::json result = {
          {"frames_per_s", frames / (median / 1e3)},
          {"step_ms_median", median},
          {"model_gflops_per_s", model_flops(config) / (median / 1e3) / 1e9},
          {"threads", budget.compute},
          {"steps", options->steps},
          {"model", config.model.type},
          {"precision", config.model.precision},
      };
      std::cout << result.dump() << "\n";
      return 0;
    };
  });
}

}  // namespace cadenza::cli
