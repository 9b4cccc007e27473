// Optimisers over named parameters, with the update rules of torch.optim in PyTorch 1.13, and
// global gradient-norm clipping (torch.nn.utils.clip_grad_norm_).
//
//   adam     g' = g + wd p;  m = b1 m + (1-b1) g';  v = b2 v + (1-b2) g'^2;
//            p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
//   adamw    p *= 1 - lr wd (decoupled), then adam with wd = 0
//   sgd      g' = g + wd p;  buf = momentum buf + g' (buf = g' at t = 1);  p -= lr buf
//   rmsprop  g' = g + wd p;  s = alpha s + (1-alpha) g'^2 with alpha = beta2;
//            p -= lr g' / (sqrt(s) + eps)
//
// Element updates run in f32 like PyTorch's; scalar coefficients (bias corrections, step sizes)
// are computed in double and rounded once. Updates are element-wise, so results do not depend on
// the thread count. The learning rate is passed to every step() by the caller (the schedule).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "config/experiment_config.hpp"
#include "core/tensor.hpp"
#include "nn/parameter.hpp"

namespace cadenza {

// Everything an optimiser needs to continue exactly where it stopped. Slot tensors have the shape
// of their parameter; slot names follow PyTorch's state_dict: exp_avg and exp_avg_sq (adam,
// adamw), momentum_buffer (sgd), square_avg (rmsprop).
struct OptimizerState {
  std::string name;   // "adam", "adamw", "sgd" or "rmsprop"
  int64_t steps = 0;  // updates applied so far
  // parameter name -> slot name -> tensor
  std::map<std::string, std::map<std::string, Tensor>> slots;
};

class Optimizer {
 public:
  // Throws ConfigError naming train.optimizer.name and the valid names for an unknown optimiser,
  // and Error when two parameters share a name.
  Optimizer(const config::OptimizerConfig& config, std::vector<NamedParameter> parameters);

  // One update of every parameter from its gradient, with learning rate `lr`.
  void step(double lr);

  const std::string& name() const { return config_.name; }
  int64_t steps() const { return steps_; }

  // A copy of the moments and step count, keyed by parameter name.
  OptimizerState state() const;
  // Restores a state saved by state(). Throws InputError naming the optimiser, parameter and slot
  // when the state belongs to another optimiser, lacks a parameter or slot, has an extra one, or
  // a slot's shape differs from its parameter's.
  void load_state(const OptimizerState& state);

 private:
  enum class Rule { kAdam, kAdamW, kSgd, kRmsProp };

  config::OptimizerConfig config_;
  Rule rule_;
  std::vector<std::string> slot_names_;
  std::vector<NamedParameter> parameters_;
  std::vector<std::vector<Tensor>> slots_;  // [parameter][slot], slot order = slot_names_
  int64_t steps_ = 0;
};

// The global L2 norm of every gradient: sqrt of the sum of squares, accumulated in double over
// fixed blocks of each parameter in the given order, so it is the same for any thread count.
double global_grad_norm(const std::vector<NamedParameter>& parameters);

// Scales every gradient by max_norm / (norm + 1e-6) when that factor is below 1 (PyTorch's
// clip_grad_norm_) and returns the norm before clipping. A non-finite norm leaves the gradients
// untouched: the caller's NaN guard decides what to do. max_norm <= 0 means no clipping (the norm
// is still returned).
double clip_grad_norm(const std::vector<NamedParameter>& parameters, double max_norm);

}  // namespace cadenza
