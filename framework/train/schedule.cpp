#include "train/schedule.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

#include "core/error.hpp"

namespace cadenza {
namespace {

// bai2018: epochs compared, the epoch after which decays may start, and the decay factor.
constexpr std::size_t kBaiWindow = 3;
constexpr int64_t kBaiFirstEpochs = 10;
constexpr double kBaiFactor = 0.1;

nlohmann::json number_or_null(double value) {
  return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
}

const nlohmann::json& field(const nlohmann::json& state, const char* name) {
  if (!state.is_object() || !state.contains(name)) {
    throw InputError(fmt::format("learning-rate schedule state: missing field \"{}\"", name));
  }
  return state.at(name);
}

double number_field(const nlohmann::json& state, const char* name, double null_value) {
  const nlohmann::json& value = field(state, name);
  if (value.is_null()) return null_value;
  if (!value.is_number()) {
    throw InputError(fmt::format("learning-rate schedule state: \"{}\" is {}, not a number", name,
                                 value.dump()));
  }
  return value.get<double>();
}

int64_t integer_field(const nlohmann::json& state, const char* name) {
  const nlohmann::json& value = field(state, name);
  if (!value.is_number_integer() || value.get<int64_t>() < 0) {
    throw InputError(
        fmt::format("learning-rate schedule state: \"{}\" is {}, not a non-negative integer", name,
                    value.dump()));
  }
  return value.get<int64_t>();
}

}  // namespace

LrSchedule::LrSchedule(const config::ScheduleConfig& config, double base_lr, int total_epochs)
    : config_(config),
      base_lr_(base_lr),
      total_epochs_(total_epochs),
      best_valid_(std::numeric_limits<double>::infinity()) {
  static const std::vector<std::string> kTypes = {"constant", "step", "plateau", "bai2018",
                                                  "cosine"};
  if (std::find(kTypes.begin(), kTypes.end(), config.type) == kTypes.end()) {
    throw ConfigError(fmt::format(
        "train.schedule.type: unknown schedule \"{}\" (valid: constant, step, plateau, bai2018, "
        "cosine)",
        config.type));
  }
  if (!(base_lr > 0.0)) {
    throw ConfigError(fmt::format("train.optimizer.lr: {} must be > 0", base_lr));
  }
  if (total_epochs < 1) {
    throw ConfigError(fmt::format("train.epochs: {} must be >= 1", total_epochs));
  }
  epoch_lr_ = closed_form_lr();
}

double LrSchedule::closed_form_lr() const {
  const double base = base_lr_ * scale_;
  double rate = base;
  if (config_.type == "step") {
    rate = base * std::pow(config_.gamma, static_cast<double>(epochs_done_ / config_.step_epochs));
  } else if (config_.type == "cosine") {
    const double progress =
        static_cast<double>(std::min<int64_t>(epochs_done_, total_epochs_)) / total_epochs_;
    rate = config_.min_lr +
           (base - config_.min_lr) * (1.0 + std::cos(std::numbers::pi * progress)) / 2.0;
  }
  return std::max(rate, config_.min_lr);
}

double LrSchedule::lr(int64_t updates_done) const {
  if (updates_done < config_.warmup_steps) {
    return epoch_lr_ * static_cast<double>(updates_done + 1) / config_.warmup_steps;
  }
  return epoch_lr_;
}

void LrSchedule::end_epoch(double valid_nll) {
  ++epochs_done_;
  const bool improved = valid_nll < best_valid_;
  if (improved) best_valid_ = valid_nll;
  if (config_.type == "plateau") {
    bad_epochs_ = improved ? 0 : bad_epochs_ + 1;
    if (bad_epochs_ >= config_.patience) {
      epoch_lr_ *= config_.gamma;
      bad_epochs_ = 0;
    }
  } else if (config_.type == "bai2018") {
    double recent_max = -std::numeric_limits<double>::infinity();
    for (double v : recent_valid_)
      recent_max = std::max(recent_max, v);
    if (epochs_done_ > kBaiFirstEpochs && recent_valid_.size() == kBaiWindow &&
        std::isfinite(recent_max) && valid_nll > recent_max) {
      epoch_lr_ *= kBaiFactor;
    }
    recent_valid_.push_back(valid_nll);
    if (recent_valid_.size() > kBaiWindow) recent_valid_.erase(recent_valid_.begin());
  } else {
    epoch_lr_ = closed_form_lr();
  }
  epoch_lr_ = std::max(epoch_lr_, config_.min_lr);
}

void LrSchedule::scale(double factor) {
  if (!(factor > 0.0 && factor <= 1.0)) {
    throw Error(fmt::format("learning-rate scale factor {} must be in (0, 1]", factor));
  }
  scale_ *= factor;
  if (config_.type == "plateau" || config_.type == "bai2018") {
    epoch_lr_ = std::max(epoch_lr_ * factor, config_.min_lr);
  } else {
    epoch_lr_ = closed_form_lr();
  }
}

nlohmann::json LrSchedule::save() const {
  nlohmann::json recent = nlohmann::json::array();
  for (double v : recent_valid_)
    recent.push_back(number_or_null(v));
  return {{"type", config_.type},
          {"epochs_done", epochs_done_},
          {"epoch_lr", epoch_lr_},
          {"scale", scale_},
          {"best_valid", number_or_null(best_valid_)},
          {"bad_epochs", bad_epochs_},
          {"recent_valid", recent}};
}

void LrSchedule::load(const nlohmann::json& state) {
  const nlohmann::json& type = field(state, "type");
  if (!type.is_string() || type.get<std::string>() != config_.type) {
    throw InputError(
        fmt::format("learning-rate schedule state is for type {}, but the config says \"{}\"",
                    type.dump(), config_.type));
  }
  const nlohmann::json& recent = field(state, "recent_valid");
  if (!recent.is_array() || recent.size() > kBaiWindow) {
    throw InputError(fmt::format(
        "learning-rate schedule state: \"recent_valid\" is {}, not an array of at most {} numbers",
        recent.dump(), kBaiWindow));
  }
  std::vector<double> recent_valid;
  for (const nlohmann::json& v : recent) {
    if (!v.is_null() && !v.is_number()) {
      throw InputError(fmt::format(
          "learning-rate schedule state: \"recent_valid\" holds {}, not a number", v.dump()));
    }
    recent_valid.push_back(v.is_null() ? std::numeric_limits<double>::quiet_NaN()
                                       : v.get<double>());
  }
  const int64_t saved_epochs_done = integer_field(state, "epochs_done");
  const double saved_epoch_lr =
      number_field(state, "epoch_lr", std::numeric_limits<double>::quiet_NaN());
  const double saved_scale = number_field(state, "scale", std::numeric_limits<double>::quiet_NaN());
  const double saved_best_valid =
      number_field(state, "best_valid", std::numeric_limits<double>::infinity());
  const int64_t saved_bad_epochs = integer_field(state, "bad_epochs");
  if (!(saved_epoch_lr > 0.0) || !(saved_scale > 0.0)) {
    throw InputError(fmt::format(
        "learning-rate schedule state: epoch_lr {} and scale {} must be positive numbers",
        saved_epoch_lr, saved_scale));
  }
  epochs_done_ = saved_epochs_done;
  epoch_lr_ = saved_epoch_lr;
  scale_ = saved_scale;
  best_valid_ = saved_best_valid;
  bad_epochs_ = saved_bad_epochs;
  recent_valid_ = std::move(recent_valid);
}

}  // namespace cadenza
