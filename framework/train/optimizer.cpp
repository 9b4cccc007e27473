#include "train/optimizer.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "core/error.hpp"
#include "core/parallel_for.hpp"

namespace cadenza {
namespace {

// Element loops shorter than this run on one thread (a parallel region costs a few microseconds).
constexpr int64_t kParallelElements = 1 << 15;
// Block size of the gradient-norm reduction: each block's sum of squares is one double partial.
constexpr int64_t kNormBlock = 1 << 14;

struct AdamCoefficients {
  float beta1, one_minus_beta1, beta2, one_minus_beta2;
  float step_size;         // lr / (1 - beta1^t)
  float bias_correction2;  // sqrt(1 - beta2^t)
  float eps;
  float l2_decay;  // adam: weight decay folded into the gradient; adamw: 0
};

// Blocks of the element loops: 16 KB of each array.
constexpr int64_t kUpdateBlock = 1 << 12;

// body(begin, end) over consecutive blocks of [0, n), on the OpenMP threads when n is large. The
// loops below take their arrays as restrict pointers and their coefficients by value, one block
// per call, so that they vectorise: a coefficient read through a reference, or an array that
// might overlap another, would have to be reloaded after every store. Every element is still
// computed by the same IEEE operations in the same order, so the results do not change.
template <class Body>
void for_each_block(int64_t n, const Body& body) {
  const int64_t blocks = (n + kUpdateBlock - 1) / kUpdateBlock;
  parallel_for(blocks, n >= kParallelElements,
               [&](int64_t b) { body(b * kUpdateBlock, std::min(n, (b + 1) * kUpdateBlock)); });
}

// value, grad, exp_avg, exp_avg_sq [n]: one Adam update (PyTorch 1.13 single-tensor path).
void adam_block(float* __restrict value, const float* __restrict grad, float* __restrict exp_avg,
                float* __restrict exp_avg_sq, int64_t n, const AdamCoefficients c) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = c.l2_decay != 0.0f ? grad[i] + c.l2_decay * value[i] : grad[i];
    exp_avg[i] = exp_avg[i] * c.beta1 + c.one_minus_beta1 * g;
    exp_avg_sq[i] = exp_avg_sq[i] * c.beta2 + c.one_minus_beta2 * g * g;
    const float denom = std::sqrt(exp_avg_sq[i]) / c.bias_correction2 + c.eps;
    value[i] += -c.step_size * (exp_avg[i] / denom);
  }
}

void adam_update(float* value, const float* grad, float* exp_avg, float* exp_avg_sq, int64_t n,
                 const AdamCoefficients& c) {
  for_each_block(n, [&](int64_t begin, int64_t end) {
    adam_block(value + begin, grad + begin, exp_avg + begin, exp_avg_sq + begin, end - begin, c);
  });
}

// value [n] *= factor: AdamW's decoupled weight decay.
void scale_block(float* __restrict value, int64_t n, const float factor) {
  for (int64_t i = 0; i < n; ++i)
    value[i] *= factor;
}

void scale_values(float* value, int64_t n, float factor) {
  for_each_block(
      n, [&](int64_t begin, int64_t end) { scale_block(value + begin, end - begin, factor); });
}

// value, grad, momentum_buffer [n]: one SGD-with-momentum update (dampening 0, no Nesterov).
void sgd_block(float* __restrict value, const float* __restrict grad,
               float* __restrict momentum_buffer, int64_t n, const float lr, const float momentum,
               const float l2_decay, const bool first_step) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = l2_decay != 0.0f ? grad[i] + l2_decay * value[i] : grad[i];
    momentum_buffer[i] = first_step ? g : momentum_buffer[i] * momentum + g;
    value[i] += -lr * momentum_buffer[i];
  }
}

void sgd_update(float* value, const float* grad, float* momentum_buffer, int64_t n, float lr,
                float momentum, float l2_decay, bool first_step) {
  for_each_block(n, [&](int64_t begin, int64_t end) {
    sgd_block(value + begin, grad + begin, momentum_buffer + begin, end - begin, lr, momentum,
              l2_decay, first_step);
  });
}

// value, grad, square_avg [n]: one RMSProp update (not centered, no momentum).
void rmsprop_block(float* __restrict value, const float* __restrict grad,
                   float* __restrict square_avg, int64_t n, const float lr, const float alpha,
                   const float eps, const float l2_decay) {
  const float one_minus_alpha = 1.0f - alpha;
  for (int64_t i = 0; i < n; ++i) {
    const float g = l2_decay != 0.0f ? grad[i] + l2_decay * value[i] : grad[i];
    square_avg[i] = square_avg[i] * alpha + one_minus_alpha * g * g;
    const float avg = std::sqrt(square_avg[i]) + eps;
    value[i] += -lr * (g / avg);
  }
}

void rmsprop_update(float* value, const float* grad, float* square_avg, int64_t n, float lr,
                    float alpha, float eps, float l2_decay) {
  for_each_block(n, [&](int64_t begin, int64_t end) {
    rmsprop_block(value + begin, grad + begin, square_avg + begin, end - begin, lr, alpha, eps,
                  l2_decay);
  });
}

std::string join_dims(const std::vector<int64_t>& dims) {
  return fmt::format("[{}]", fmt::join(dims, ", "));
}

}  // namespace

Optimizer::Optimizer(const config::OptimizerConfig& config, std::vector<NamedParameter> parameters)
    : config_(config), parameters_(std::move(parameters)) {
  if (config.name == "adam" || config.name == "adamw") {
    rule_ = config.name == "adam" ? Rule::kAdam : Rule::kAdamW;
    slot_names_ = {"exp_avg", "exp_avg_sq"};
  } else if (config.name == "sgd") {
    rule_ = Rule::kSgd;
    slot_names_ = {"momentum_buffer"};
  } else if (config.name == "rmsprop") {
    rule_ = Rule::kRmsProp;
    slot_names_ = {"square_avg"};
  } else {
    throw ConfigError(fmt::format(
        "train.optimizer.name: unknown optimiser \"{}\" (valid: adam, adamw, sgd, rmsprop)",
        config.name));
  }
  std::set<std::string> seen;
  for (const NamedParameter& p : parameters_) {
    if (!seen.insert(p.name).second) {
      throw Error(
          fmt::format("optimiser {}: two parameters are named \"{}\"", config.name, p.name));
    }
    std::vector<Tensor> slots;
    for (std::size_t s = 0; s < slot_names_.size(); ++s)
      slots.emplace_back(p.parameter->value.dims());
    slots_.push_back(std::move(slots));
  }
}

void Optimizer::step(double lr) {
  ++steps_;
  const auto t = static_cast<double>(steps_);
  const auto wd = static_cast<float>(config_.weight_decay);
  for (std::size_t k = 0; k < parameters_.size(); ++k) {
    Parameter& p = *parameters_[k].parameter;
    std::vector<Tensor>& slots = slots_[k];
    const int64_t n = p.value.numel();
    switch (rule_) {
      case Rule::kAdam:
      case Rule::kAdamW: {
        if (rule_ == Rule::kAdamW) {
          scale_values(p.value.data(), n, static_cast<float>(1.0 - lr * config_.weight_decay));
        }
        const AdamCoefficients c{static_cast<float>(config_.beta1),
                                 static_cast<float>(1.0 - config_.beta1),
                                 static_cast<float>(config_.beta2),
                                 static_cast<float>(1.0 - config_.beta2),
                                 static_cast<float>(lr / (1.0 - std::pow(config_.beta1, t))),
                                 static_cast<float>(std::sqrt(1.0 - std::pow(config_.beta2, t))),
                                 static_cast<float>(config_.eps),
                                 rule_ == Rule::kAdam ? wd : 0.0f};
        adam_update(p.value.data(), p.grad.data(), slots[0].data(), slots[1].data(), n, c);
        break;
      }
      case Rule::kSgd:
        sgd_update(p.value.data(), p.grad.data(), slots[0].data(), n, static_cast<float>(lr),
                   static_cast<float>(config_.momentum), wd, steps_ == 1);
        break;
      case Rule::kRmsProp:
        rmsprop_update(p.value.data(), p.grad.data(), slots[0].data(), n, static_cast<float>(lr),
                       static_cast<float>(config_.beta2), static_cast<float>(config_.eps), wd);
        break;
    }
  }
}

OptimizerState Optimizer::state() const {
  OptimizerState state;
  state.name = config_.name;
  state.steps = steps_;
  for (std::size_t k = 0; k < parameters_.size(); ++k) {
    auto& slots = state.slots[parameters_[k].name];
    for (std::size_t s = 0; s < slot_names_.size(); ++s)
      slots.emplace(slot_names_[s], slots_[k][s]);
  }
  return state;
}

void Optimizer::load_state(const OptimizerState& state) {
  if (state.name != config_.name) {
    throw InputError(fmt::format("optimiser state is for \"{}\", but the optimiser is \"{}\"",
                                 state.name, config_.name));
  }
  if (state.steps < 0) {
    throw InputError(fmt::format("optimiser state: step count {} is negative", state.steps));
  }
  for (const auto& [name, slots] : state.slots) {
    const bool known = std::any_of(parameters_.begin(), parameters_.end(),
                                   [&](const NamedParameter& p) { return p.name == name; });
    if (!known) {
      throw InputError(
          fmt::format("optimiser state has parameter \"{}\", which the model does not have", name));
    }
    for (const auto& [slot, tensor] : slots) {
      if (std::find(slot_names_.begin(), slot_names_.end(), slot) == slot_names_.end()) {
        throw InputError(fmt::format("optimiser state of \"{}\": {} has no slot \"{}\" (valid: {})",
                                     name, config_.name, slot, fmt::join(slot_names_, ", ")));
      }
    }
  }
  std::vector<std::vector<Tensor>> restored;
  for (const NamedParameter& p : parameters_) {
    const auto found = state.slots.find(p.name);
    if (found == state.slots.end()) {
      throw InputError(fmt::format("optimiser state has no entry for parameter \"{}\"", p.name));
    }
    std::vector<Tensor> slots;
    for (const std::string& slot : slot_names_) {
      const auto tensor = found->second.find(slot);
      if (tensor == found->second.end()) {
        throw InputError(fmt::format("optimiser state of \"{}\" has no slot \"{}\"", p.name, slot));
      }
      if (tensor->second.dims() != p.parameter->value.dims()) {
        throw InputError(fmt::format("optimiser state {} of \"{}\" has shape {}, the parameter {}",
                                     slot, p.name, join_dims(tensor->second.dims()),
                                     join_dims(p.parameter->value.dims())));
      }
      slots.push_back(tensor->second);
    }
    restored.push_back(std::move(slots));
  }
  slots_ = std::move(restored);
  steps_ = state.steps;
}

double global_grad_norm(const std::vector<NamedParameter>& parameters) {
  double total = 0.0;
  std::vector<double> partials;
  for (const NamedParameter& p : parameters) {
    const float* g = p.parameter->grad.data();
    const int64_t n = p.parameter->grad.numel();
    const int64_t blocks = (n + kNormBlock - 1) / kNormBlock;
    partials.assign(static_cast<std::size_t>(blocks), 0.0);
    parallel_for(blocks, n >= kParallelElements, [&](int64_t b) {
      double sum = 0.0;
      const int64_t end = std::min(n, (b + 1) * kNormBlock);
      for (int64_t i = b * kNormBlock; i < end; ++i)
        sum += static_cast<double>(g[i]) * static_cast<double>(g[i]);
      partials[static_cast<std::size_t>(b)] = sum;
    });
    for (double partial : partials)
      total += partial;
  }
  return std::sqrt(total);
}

double clip_grad_norm(const std::vector<NamedParameter>& parameters, double max_norm) {
  const double norm = global_grad_norm(parameters);
  if (max_norm <= 0.0 || !std::isfinite(norm)) return norm;
  const double factor = max_norm / (norm + 1e-6);
  if (factor >= 1.0) return norm;
  const auto scale = static_cast<float>(factor);
  for (const NamedParameter& p : parameters) {
    float* g = p.parameter->grad.data();
    const int64_t n = p.parameter->grad.numel();
    scale_values(g, n, scale);
  }
  return norm;
}

}  // namespace cadenza
