// Learning-rate schedules. The rate of an optimiser update is
//
//   lr(update) = warm-up factor(update) * epoch rate
//
// The warm-up factor is (u + 1) / warmup_steps for the u-th update (u = 0, 1, ...) while
// u < warmup_steps, then 1. The epoch rate is set by the schedule type at the end of each epoch
// (end_epoch, fed with that epoch's valid nll) and never falls below min_lr:
//
//   constant  base
//   step      base * gamma^floor(e / step_epochs), e = epochs finished (torch StepLR per epoch)
//   plateau   multiplied by gamma once `patience` epochs in a row did not improve on the best
//             valid nll (strictly lower); the count then restarts. torch's ReduceLROnPlateau
//             decays one epoch later (after patience + 1 bad epochs).
//   bai2018   divided by 10 when, after epoch e > 10, the valid nll exceeds the max of the valid
//             nll of the 3 previous epochs (Bai, Kolter, Koltun 2018, poly_music; docs/reproduce.md)
//   cosine    min_lr + (base - min_lr) (1 + cos(pi e / epochs)) / 2 (torch CosineAnnealingLR
//             with T_max = the run's epochs, stepped per epoch)
//
// `base` is the optimiser's initial rate times every factor given to scale() (the NaN guard's
// "roll back with a lower learning rate"). The whole state is saved as JSON for exact resume.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/experiment_config.hpp"

namespace cadenza {

class LrSchedule {
 public:
  // Throws ConfigError naming train.schedule.type and the valid types for an unknown type.
  LrSchedule(const config::ScheduleConfig& config, double base_lr, int total_epochs);

  // The rate of the update that follows `updates_done` earlier updates of the run.
  double lr(int64_t updates_done) const;
  // The rate of the current epoch before warm-up.
  double epoch_lr() const { return epoch_lr_; }
  int64_t epochs_done() const { return epochs_done_; }

  // Ends an epoch with its valid nll (NaN counts as no improvement and never triggers bai2018).
  void end_epoch(double valid_nll);
  // Multiplies the rate by `factor` in (0, 1] from now on, keeping the schedule's shape.
  void scale(double factor);

  // {"type", "epochs_done", "epoch_lr", "scale", "best_valid", "bad_epochs", "recent_valid"};
  // non-finite numbers are stored as null.
  nlohmann::json save() const;
  // Restores save()'s output. Throws InputError naming the field when it is missing or has the
  // wrong type, or when the saved type differs from this schedule's.
  void load(const nlohmann::json& state);

 private:
  double closed_form_lr() const;

  config::ScheduleConfig config_;
  double base_lr_;
  int total_epochs_;
  int64_t epochs_done_ = 0;
  double epoch_lr_;
  double scale_ = 1.0;
  double best_valid_;                 // +inf until an epoch ends with a finite valid nll
  int64_t bad_epochs_ = 0;            // plateau: epochs since the last improvement or decay
  std::vector<double> recent_valid_;  // bai2018: valid nll of the last 3 epochs, oldest first
};

}  // namespace cadenza
