// Optimisers: agreement with torch.optim (PyTorch 1.13) over five steps with changing learning
// rates, weight decay and clipping; exact resume from exported state; gradient-norm clipping.
#include "train/optimizer.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "support/process.hpp"
#include "train/train_test_util.hpp"

namespace cadenza {
namespace {

namespace fs = std::filesystem;
using testing::uniform_tensor;

constexpr int kSteps = 5;

// A few parameters of different ranks, with their names.
struct Params {
  explicit Params(const std::vector<std::vector<int64_t>>& shapes) {
    storage.reserve(shapes.size());
    for (std::size_t k = 0; k < shapes.size(); ++k) {
      storage.emplace_back(fmt::format("p{}", k), shapes[k]);
      storage.back().value = uniform_tensor(shapes[k], 11, k, -1.0f, 1.0f);
    }
    for (Parameter& p : storage)
      named.push_back({"layer/" + p.name, &p});
  }
  // Gradients of step `step`, scaled by `scale`.
  void set_grads(int step, float scale) {
    for (std::size_t k = 0; k < storage.size(); ++k) {
      storage[k].grad = uniform_tensor(storage[k].value.dims(), 12, 100 * step + k, -scale, scale);
    }
  }
  std::vector<Parameter> storage;
  std::vector<NamedParameter> named;
};

const std::vector<std::vector<int64_t>> kShapes = {{6, 4}, {4}, {2, 3, 5}};
// Step 2's gradients are large so that clipping at 1.0 is active there and not elsewhere.
constexpr float kGradScale[kSteps] = {0.1f, 0.2f, 3.0f, 0.05f, 0.1f};

struct Case {
  std::string id;
  config::OptimizerConfig config;
  std::vector<double> lrs;
  double clip = 0.0;
};

std::vector<Case> torch_cases() {
  const std::vector<double> small = {1e-2, 2e-2, 1.5e-2, 5e-3, 1e-2};
  const std::vector<double> large = {0.1, 0.2, 0.05, 0.1, 0.3};
  auto config = [](std::string name, double weight_decay) {
    config::OptimizerConfig c;
    c.name = std::move(name);
    c.weight_decay = weight_decay;
    return c;
  };
  std::vector<Case> cases = {
      {"adam", config("adam", 0.0), small},
      {"adam_l2", config("adam", 0.01), small},
      {"adamw", config("adamw", 0.1), small},
      {"sgd_momentum", config("sgd", 0.01), large},
      {"sgd_plain", config("sgd", 0.0), large},
      {"rmsprop", config("rmsprop", 0.01), small},
      {"adam_clipped", config("adam", 0.0), small, 1.0},
      {"adamw_betas", config("adamw", 0.05), small, 2.0},
  };
  cases[4].config.momentum = 0.0;
  cases[5].config.beta2 = 0.95;
  cases[5].config.eps = 1e-6;
  cases[7].config.beta1 = 0.8;
  cases[7].config.beta2 = 0.99;
  return cases;
}

// max |a - b| / max |b|: the error relative to the tensor's scale.
double scaled_error(const std::vector<float>& ours, const std::vector<float>& torch) {
  double error = 0.0, scale = 0.0;
  for (std::size_t i = 0; i < torch.size(); ++i) {
    error = std::max(error, std::abs(static_cast<double>(ours[i]) - torch[i]));
    scale = std::max(scale, std::abs(static_cast<double>(torch[i])));
  }
  return error / scale;
}

TEST(OptimizerTorch, MatchesTorchOptimOverFiveSteps) {
  const testing::ScratchDir scratch;
  const std::vector<Case> cases = torch_cases();
  nlohmann::json inputs;
  inputs["steps"] = kSteps;
  {
    Params reference(kShapes);
    for (std::size_t k = 0; k < kShapes.size(); ++k) {
      inputs["params"].push_back({{"name", reference.named[k].name}, {"dims", kShapes[k]}});
      const Tensor& v = reference.storage[k].value;
      testing::write_floats(scratch / ("init_" + std::to_string(k) + ".bin"), v.data(), v.numel());
    }
    for (int s = 0; s < kSteps; ++s) {
      reference.set_grads(s, kGradScale[s]);
      for (std::size_t k = 0; k < kShapes.size(); ++k) {
        const Tensor& g = reference.storage[k].grad;
        testing::write_floats(scratch / fmt::format("grad_{}_{}.bin", s, k), g.data(), g.numel());
      }
    }
  }
  for (const Case& c : cases) {
    inputs["cases"].push_back({{"id", c.id},
                               {"name", c.config.name},
                               {"lrs", c.lrs},
                               {"beta1", c.config.beta1},
                               {"beta2", c.config.beta2},
                               {"eps", c.config.eps},
                               {"momentum", c.config.momentum},
                               {"weight_decay", c.config.weight_decay},
                               {"clip", c.clip}});
  }
  std::ofstream(scratch / "inputs.json") << inputs.dump();
  const auto run =
      testing::run_python_script("torch_optim_check.py", "'" + scratch.path().string() + "'");
  ASSERT_EQ(run.status, 0) << run.output;
  nlohmann::json outputs;
  std::ifstream(scratch / "outputs.json") >> outputs;

  for (const Case& c : cases) {
    SCOPED_TRACE(c.id);
    Params params(kShapes);
    Optimizer optimizer(c.config, params.named);
    std::vector<double> norms;
    for (int s = 0; s < kSteps; ++s) {
      params.set_grads(s, kGradScale[s]);
      if (c.clip > 0.0) norms.push_back(clip_grad_norm(params.named, c.clip));
      optimizer.step(c.lrs[static_cast<std::size_t>(s)]);
    }
    EXPECT_EQ(optimizer.steps(), kSteps);
    const nlohmann::json& expected = outputs["cases"][c.id];
    const auto torch_norms = expected["norms"].get<std::vector<double>>();
    ASSERT_EQ(norms.size(), torch_norms.size());
    for (std::size_t s = 0; s < norms.size(); ++s)
      EXPECT_NEAR(norms[s], torch_norms[s], 1e-6 * torch_norms[s]) << "norm of step " << s;
    if (c.clip > 0.0) {
      EXPECT_GT(torch_norms[2], c.clip) << "clipping must be active at step 2";
    }

    const OptimizerState state = optimizer.state();
    for (std::size_t k = 0; k < kShapes.size(); ++k) {
      const Tensor& value = params.storage[k].value;
      const auto torch_value =
          testing::read_floats(scratch / fmt::format("out_{}_{}.bin", c.id, k), value.numel());
      ASSERT_EQ(torch_value.size(), static_cast<std::size_t>(value.numel()));
      const std::vector<float> ours(value.values().begin(), value.values().end());
      EXPECT_LT(scaled_error(ours, torch_value), 1e-6) << "parameter " << k;

      // Every state tensor torch keeps must match ours under the same slot name.
      const std::string key = std::to_string(k);
      const auto slots = expected["slots"].contains(key)
                             ? expected["slots"][key].get<std::vector<std::string>>()
                             : std::vector<std::string>{};
      if (c.config.momentum > 0.0 || c.config.name != "sgd") {
        EXPECT_FALSE(slots.empty());
      }
      for (const std::string& slot : slots) {
        const Tensor& ours_slot = state.slots.at(params.named[k].name).at(slot);
        const auto torch_slot = testing::read_floats(
            scratch / fmt::format("out_{}_{}_{}.bin", c.id, k, slot), ours_slot.numel());
        ASSERT_EQ(torch_slot.size(), static_cast<std::size_t>(ours_slot.numel()));
        const std::vector<float> ours_values(ours_slot.values().begin(), ours_slot.values().end());
        EXPECT_LT(scaled_error(ours_values, torch_slot), 1e-6) << "slot " << slot << " of " << k;
      }
    }
  }
}

TEST(OptimizerState, ExportAndLoadResumesBitExactly) {
  for (const std::string name : {"adam", "adamw", "sgd", "rmsprop"}) {
    SCOPED_TRACE(name);
    config::OptimizerConfig config;
    config.name = name;
    config.weight_decay = 0.01;
    Params straight(kShapes);
    Optimizer uninterrupted(config, straight.named);
    for (int s = 0; s < kSteps; ++s) {
      straight.set_grads(s, kGradScale[s]);
      uninterrupted.step(0.01 * (s + 1));
    }

    Params first(kShapes);
    OptimizerState saved;
    {
      Optimizer before(config, first.named);
      for (int s = 0; s < 3; ++s) {
        first.set_grads(s, kGradScale[s]);
        before.step(0.01 * (s + 1));
      }
      saved = before.state();
    }
    EXPECT_EQ(saved.steps, 3);
    EXPECT_EQ(saved.name, name);
    Params resumed(kShapes);
    for (std::size_t k = 0; k < kShapes.size(); ++k)
      resumed.storage[k].value = first.storage[k].value;
    Optimizer after(config, resumed.named);
    after.load_state(saved);
    for (int s = 3; s < kSteps; ++s) {
      resumed.set_grads(s, kGradScale[s]);
      after.step(0.01 * (s + 1));
    }
    EXPECT_EQ(after.steps(), kSteps);
    for (std::size_t k = 0; k < kShapes.size(); ++k) {
      const Tensor& a = straight.storage[k].value;
      const Tensor& b = resumed.storage[k].value;
      EXPECT_EQ(0, std::memcmp(a.data(), b.data(), static_cast<std::size_t>(a.numel()) * 4))
          << "parameter " << k << " differs after resume";
    }
  }
}

TEST(OptimizerState, LoadRejectsStateOfAnotherOptimiserOrModel) {
  Params params(kShapes);
  config::OptimizerConfig adam;
  Optimizer optimizer(adam, params.named);
  const OptimizerState good = optimizer.state();

  OptimizerState other_name = good;
  other_name.name = "sgd";
  EXPECT_THROW(optimizer.load_state(other_name), InputError);

  OptimizerState missing_parameter = good;
  missing_parameter.slots.erase("layer/p1");
  EXPECT_THROW(optimizer.load_state(missing_parameter), InputError);

  OptimizerState extra_parameter = good;
  extra_parameter.slots["layer/unknown"] = good.slots.at("layer/p1");
  EXPECT_THROW(optimizer.load_state(extra_parameter), InputError);

  OptimizerState missing_slot = good;
  missing_slot.slots.at("layer/p0").erase("exp_avg_sq");
  EXPECT_THROW(optimizer.load_state(missing_slot), InputError);

  OptimizerState wrong_shape = good;
  wrong_shape.slots.at("layer/p0").at("exp_avg") = Tensor({4, 6});
  try {
    optimizer.load_state(wrong_shape);
    ADD_FAILURE() << "a slot of the wrong shape was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("layer/p0"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(optimizer.load_state(good));
}

TEST(OptimizerConfig, UnknownNameIsConfigErrorListingValidNames) {
  Params params(kShapes);
  config::OptimizerConfig config;
  config.name = "adagrad";
  try {
    Optimizer optimizer(config, params.named);
    ADD_FAILURE() << "adagrad was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("rmsprop"), std::string::npos) << e.what();
  }
}

TEST(GradClip, NormIsTheSameForAnyThreadCount) {
  Params params({{300, 257}, {7}, {1 << 16}});
  params.set_grads(0, 1.0f);
  double naive = 0.0;
  for (const Parameter& p : params.storage)
    for (float g : p.grad.values())
      naive += static_cast<double>(g) * g;
  const int threads_before = omp_get_max_threads();
  omp_set_num_threads(1);
  const double one_thread = global_grad_norm(params.named);
  omp_set_num_threads(2);
  const double two_threads = global_grad_norm(params.named);
  omp_set_num_threads(threads_before);
  EXPECT_EQ(one_thread, two_threads);
  EXPECT_NEAR(one_thread, std::sqrt(naive), 1e-12 * std::sqrt(naive));
}

TEST(GradClip, ScalesToMaxNormAndReturnsNormBeforeClipping) {
  Params params(kShapes);
  params.set_grads(0, 5.0f);
  const double before = global_grad_norm(params.named);
  ASSERT_GT(before, 2.0);
  EXPECT_EQ(clip_grad_norm(params.named, 2.0), before);
  EXPECT_NEAR(global_grad_norm(params.named), 2.0, 1e-5);

  // Below the threshold nothing changes, bit for bit.
  const Tensor kept = params.storage[0].grad;
  EXPECT_NEAR(clip_grad_norm(params.named, 10.0), 2.0, 1e-5);
  EXPECT_EQ(0, std::memcmp(kept.data(), params.storage[0].grad.data(), 24 * 4));

  // max_norm 0 only measures.
  params.set_grads(0, 5.0f);
  EXPECT_EQ(clip_grad_norm(params.named, 0.0), before);
  EXPECT_EQ(global_grad_norm(params.named), before);
}

TEST(GradClip, NonFiniteNormLeavesGradientsForTheNanGuard) {
  Params params(kShapes);
  params.set_grads(0, 5.0f);
  params.storage[1].grad[2] = std::numeric_limits<float>::infinity();
  const Tensor kept = params.storage[0].grad;
  EXPECT_TRUE(std::isinf(clip_grad_norm(params.named, 1.0)));
  EXPECT_EQ(0, std::memcmp(kept.data(), params.storage[0].grad.data(), 24 * 4));
  params.storage[1].grad[2] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(std::isnan(clip_grad_norm(params.named, 1.0)));
}

}  // namespace
}  // namespace cadenza
