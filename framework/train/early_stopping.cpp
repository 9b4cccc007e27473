#include "train/early_stopping.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "core/error.hpp"

namespace cadenza {
namespace {

const nlohmann::json& field(const nlohmann::json& state, const char* name) {
  if (!state.is_object() || !state.contains(name)) {
    throw InputError(fmt::format("early-stopping state: missing field \"{}\"", name));
  }
  return state.at(name);
}

int64_t count_field(const nlohmann::json& state, const char* name) {
  const nlohmann::json& value = field(state, name);
  if (!value.is_number_integer() || value.get<int64_t>() < 0) {
    throw InputError(fmt::format("early-stopping state: \"{}\" is {}, not a non-negative integer",
                                 name, value.dump()));
  }
  return value.get<int64_t>();
}

}  // namespace

EarlyStopping::EarlyStopping(int patience)
    : patience_(patience), best_valid_(std::numeric_limits<double>::infinity()) {
  if (patience < 0) {
    throw ConfigError(
        fmt::format("train.early_stopping_patience: {} must be >= 0 (0 = off)", patience));
  }
}

bool EarlyStopping::record(int64_t epoch, double valid_nll) {
  if (epoch < 1) throw Error(fmt::format("early stopping: epoch {} must be >= 1", epoch));
  if (valid_nll < best_valid_) {
    best_valid_ = valid_nll;
    best_epoch_ = epoch;
    epochs_without_improvement_ = 0;
    return true;
  }
  ++epochs_without_improvement_;
  return false;
}

nlohmann::json EarlyStopping::save() const {
  return {{"best_epoch", best_epoch_},
          {"best_valid", has_best() ? nlohmann::json(best_valid_) : nlohmann::json(nullptr)},
          {"epochs_without_improvement", epochs_without_improvement_}};
}

void EarlyStopping::load(const nlohmann::json& state) {
  const int64_t best_epoch = count_field(state, "best_epoch");
  const int64_t without_improvement = count_field(state, "epochs_without_improvement");
  const nlohmann::json& best = field(state, "best_valid");
  if (best_epoch > 0 ? !best.is_number() : !best.is_null()) {
    throw InputError(fmt::format(
        "early-stopping state: best_valid {} does not match best_epoch {} (a number when "
        "best_epoch > 0, null otherwise)",
        best.dump(), best_epoch));
  }
  best_epoch_ = best_epoch;
  best_valid_ = best.is_null() ? std::numeric_limits<double>::infinity() : best.get<double>();
  epochs_without_improvement_ = without_improvement;
}

}  // namespace cadenza
