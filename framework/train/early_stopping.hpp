// Early stopping on the valid nll: remembers the best epoch and value, and says when `patience`
// epochs in a row have not improved on the best (strictly lower nll). patience 0 never stops but
// still tracks the best epoch (the trainer reloads the best-valid checkpoint for the test).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>

namespace cadenza {

class EarlyStopping {
 public:
  // Throws ConfigError naming train.early_stopping_patience when patience < 0.
  explicit EarlyStopping(int patience);

  // Records the valid nll of `epoch` (numbered from 1); returns true when it is the best so far.
  // NaN never is.
  bool record(int64_t epoch, double valid_nll);
  bool should_stop() const { return patience_ > 0 && epochs_without_improvement_ >= patience_; }

  bool has_best() const { return best_epoch_ > 0; }
  // 0 until a finite valid nll was recorded.
  int64_t best_epoch() const { return best_epoch_; }
  double best_valid() const { return best_valid_; }
  int64_t epochs_without_improvement() const { return epochs_without_improvement_; }

  // {"best_epoch", "best_valid" (null while there is none), "epochs_without_improvement"}.
  nlohmann::json save() const;
  // Throws InputError naming the field when it is missing or has the wrong type.
  void load(const nlohmann::json& state);

 private:
  int patience_;
  int64_t best_epoch_ = 0;
  double best_valid_;
  int64_t epochs_without_improvement_ = 0;
};

}  // namespace cadenza
