// Learning-rate schedules and early stopping: hand-computed sequences for every schedule type,
// warm-up, the min_lr floor, scale(), and exact resume through the saved JSON state.
#include "train/schedule.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numbers>
#include <vector>

#include "core/error.hpp"
#include "train/early_stopping.hpp"

namespace cadenza {
namespace {

config::ScheduleConfig schedule_config(std::string type) {
  config::ScheduleConfig c;
  c.type = std::move(type);
  return c;
}

// The epoch rate after each of the given valid losses (the rate of the next epoch).
std::vector<double> rates_after(LrSchedule& schedule, const std::vector<double>& valid) {
  std::vector<double> rates;
  for (double v : valid) {
    schedule.end_epoch(v);
    rates.push_back(schedule.epoch_lr());
  }
  return rates;
}

void expect_rates(const std::vector<double>& actual, const std::vector<double>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i)
    EXPECT_DOUBLE_EQ(actual[i], expected[i]) << "after epoch " << i + 1;
}

TEST(LrSchedule, ConstantKeepsTheBaseRate) {
  LrSchedule schedule(schedule_config("constant"), 0.003, 10);
  EXPECT_EQ(schedule.epoch_lr(), 0.003);
  expect_rates(rates_after(schedule, {3.0, 2.0, 5.0}), {0.003, 0.003, 0.003});
  EXPECT_EQ(schedule.epochs_done(), 3);
}

TEST(LrSchedule, WarmupRampsLinearlyOverUpdatesThenHandsOver) {
  config::ScheduleConfig c = schedule_config("step");
  c.warmup_steps = 4;
  c.step_epochs = 1;
  c.gamma = 0.5;
  LrSchedule schedule(c, 0.1, 10);
  EXPECT_DOUBLE_EQ(schedule.lr(0), 0.025);
  EXPECT_DOUBLE_EQ(schedule.lr(1), 0.05);
  EXPECT_DOUBLE_EQ(schedule.lr(2), 0.075);
  EXPECT_DOUBLE_EQ(schedule.lr(3), 0.1);
  EXPECT_DOUBLE_EQ(schedule.lr(40), 0.1);
  schedule.end_epoch(1.0);  // a short first epoch: warm-up continues on the decayed rate
  EXPECT_DOUBLE_EQ(schedule.lr(2), 0.0375);
  EXPECT_DOUBLE_EQ(schedule.lr(4), 0.05);
}

TEST(LrSchedule, StepDecaysEveryStepEpochsDownToMinLr) {
  config::ScheduleConfig c = schedule_config("step");
  c.step_epochs = 2;
  c.gamma = 0.5;
  LrSchedule schedule(c, 1.0, 10);
  expect_rates(rates_after(schedule, {1, 1, 1, 1, 1, 1}), {1.0, 0.5, 0.5, 0.25, 0.25, 0.125});
  c.min_lr = 0.3;
  LrSchedule floored(c, 1.0, 10);
  expect_rates(rates_after(floored, {1, 1, 1, 1, 1, 1}), {1.0, 0.5, 0.5, 0.3, 0.3, 0.3});
}

TEST(LrSchedule, PlateauDecaysAfterPatienceEpochsWithoutImprovement) {
  config::ScheduleConfig c = schedule_config("plateau");
  c.patience = 2;
  c.gamma = 0.1;
  LrSchedule schedule(c, 1.0, 20);
  // 5 and 4 improve; 4 (equal) and 4.5 do not -> decay after epoch 4; 3 improves; two 3s decay.
  expect_rates(rates_after(schedule, {5, 4, 4, 4.5, 3, 3, 3, 3}),
               {1, 1, 1, 0.1, 0.1, 0.1, 0.01, 0.01});
}

TEST(LrSchedule, Bai2018DividesByTenOnlyAfterEpochTenWhenValidExceedsMaxOfLastThree) {
  LrSchedule schedule(schedule_config("bai2018"), 1e-3, 100);
  // The spike at epoch 5 is ignored (epoch <= 10); epoch 11 (2 < max(3, 2, 1)) keeps the rate;
  // epoch 12 (3.5 > max(2, 1, 2)) and epoch 14 (5 > max(2, 3.5, 0.5)) divide it by 10.
  expect_rates(
      rates_after(schedule, {10, 9, 8, 7, 100, 5, 4, 3, 2, 1, 2, 3.5, 0.5, 5}),
      {1e-3, 1e-3, 1e-3, 1e-3, 1e-3, 1e-3, 1e-3, 1e-3, 1e-3, 1e-3, 1e-3, 1e-4, 1e-4, 1e-5});
}

TEST(LrSchedule, Bai2018FirstEligibleEpochIsEleven) {
  LrSchedule at_ten(schedule_config("bai2018"), 1.0, 100);
  rates_after(at_ten, std::vector<double>(9, 1.0));
  at_ten.end_epoch(1.5);  // epoch 10: not yet
  EXPECT_EQ(at_ten.epoch_lr(), 1.0);
  LrSchedule at_eleven(schedule_config("bai2018"), 1.0, 100);
  rates_after(at_eleven, std::vector<double>(10, 1.0));
  at_eleven.end_epoch(1.5);  // epoch 11
  EXPECT_DOUBLE_EQ(at_eleven.epoch_lr(), 0.1);
}

TEST(LrSchedule, CosineAnnealsToMinLrOverTheRunsEpochs) {
  LrSchedule schedule(schedule_config("cosine"), 1.0, 4);
  EXPECT_EQ(schedule.epoch_lr(), 1.0);
  const double c1 = (1 + std::cos(std::numbers::pi / 4)) / 2;  // 0.8535533905932737
  const double c3 = (1 + std::cos(3 * std::numbers::pi / 4)) / 2;
  expect_rates(rates_after(schedule, {1, 1, 1, 1}), {c1, 0.5, c3, 0.0});
  config::ScheduleConfig c = schedule_config("cosine");
  c.min_lr = 0.1;
  LrSchedule floored(c, 1.0, 4);
  expect_rates(rates_after(floored, {1, 1, 1, 1, 1}),
               {0.1 + 0.9 * c1, 0.55, 0.1 + 0.9 * c3, 0.1, 0.1});
}

TEST(LrSchedule, ScaleLowersTheRateAndKeepsTheShape) {
  config::ScheduleConfig c = schedule_config("step");
  c.step_epochs = 1;
  c.gamma = 0.5;
  LrSchedule step(c, 1.0, 10);
  step.end_epoch(1.0);
  step.scale(0.1);
  EXPECT_DOUBLE_EQ(step.epoch_lr(), 0.05);
  step.end_epoch(1.0);
  EXPECT_DOUBLE_EQ(step.epoch_lr(), 0.025);

  config::ScheduleConfig p = schedule_config("plateau");
  p.patience = 1;
  p.gamma = 0.5;
  p.min_lr = 0.01;
  LrSchedule plateau(p, 1.0, 10);
  plateau.end_epoch(2.0);
  plateau.scale(0.1);
  EXPECT_DOUBLE_EQ(plateau.epoch_lr(), 0.1);
  plateau.end_epoch(3.0);
  EXPECT_DOUBLE_EQ(plateau.epoch_lr(), 0.05);
  plateau.scale(0.01);
  EXPECT_DOUBLE_EQ(plateau.epoch_lr(), 0.01);  // min_lr floor
  EXPECT_THROW(plateau.scale(0.0), Error);
  EXPECT_THROW(plateau.scale(2.0), Error);
}

TEST(LrSchedule, SavedStateResumesEveryTypeExactly) {
  const std::vector<double> valid = {5.0, 4.0, 4.2, 4.1, 3.0, 3.3, 3.2,          3.1, 2.9,
                                     3.0, 3.5, 2.0, 2.5, 2.6, 2.7, std::nan(""), 1.0, 1.5};
  for (const std::string type : {"constant", "step", "plateau", "bai2018", "cosine"}) {
    SCOPED_TRACE(type);
    config::ScheduleConfig c = schedule_config(type);
    c.step_epochs = 3;
    c.gamma = 0.3;
    c.patience = 2;
    c.warmup_steps = 7;
    c.min_lr = 1e-5;
    LrSchedule straight(c, 0.01, 18);
    const std::vector<double> expected = rates_after(straight, valid);

    for (std::size_t cut = 0; cut <= valid.size(); cut += 6) {
      LrSchedule first(c, 0.01, 18);
      std::vector<double> rates =
          rates_after(first, std::vector<double>(valid.begin(), valid.begin() + cut));
      first.scale(1.0);
      const std::string saved = first.save().dump();
      LrSchedule second(c, 0.01, 18);
      second.load(nlohmann::json::parse(saved));
      EXPECT_EQ(second.lr(3), first.lr(3));
      for (std::size_t e = cut; e < valid.size(); ++e) {
        second.end_epoch(valid[e]);
        rates.push_back(second.epoch_lr());
      }
      ASSERT_EQ(rates.size(), expected.size());
      for (std::size_t e = 0; e < rates.size(); ++e)
        EXPECT_EQ(rates[e], expected[e]) << "epoch " << e + 1 << ", resumed after " << cut;
    }
  }
}

TEST(LrSchedule, LoadRejectsStateOfAnotherTypeOrWithoutFields) {
  LrSchedule schedule(schedule_config("plateau"), 0.01, 10);
  nlohmann::json state = schedule.save();
  LrSchedule cosine(schedule_config("cosine"), 0.01, 10);
  EXPECT_THROW(cosine.load(state), InputError);
  state.erase("bad_epochs");
  EXPECT_THROW(schedule.load(state), InputError);
  state = schedule.save();
  state["epoch_lr"] = "fast";
  EXPECT_THROW(schedule.load(state), InputError);
  EXPECT_EQ(schedule.epoch_lr(), 0.01) << "a rejected state must leave the schedule unchanged";
}

TEST(LrSchedule, UnknownTypeIsConfigErrorListingValidTypes) {
  try {
    LrSchedule schedule(schedule_config("exponential"), 0.01, 10);
    ADD_FAILURE() << "exponential was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("bai2018"), std::string::npos) << e.what();
  }
}

TEST(EarlyStopping, StopsAfterPatienceEpochsWithoutImprovementAndKeepsTheBest) {
  EarlyStopping stopping(2);
  EXPECT_FALSE(stopping.has_best());
  EXPECT_TRUE(stopping.record(1, 5.0));
  EXPECT_TRUE(stopping.record(2, 4.0));
  EXPECT_FALSE(stopping.record(3, 4.5));
  EXPECT_FALSE(stopping.should_stop());
  EXPECT_FALSE(stopping.record(4, 4.0));  // equal is no improvement
  EXPECT_TRUE(stopping.should_stop());
  EXPECT_EQ(stopping.best_epoch(), 2);
  EXPECT_EQ(stopping.best_valid(), 4.0);
  EXPECT_EQ(stopping.epochs_without_improvement(), 2);
}

TEST(EarlyStopping, PatienceZeroNeverStopsAndNanIsNeverBest) {
  EarlyStopping stopping(0);
  EXPECT_FALSE(stopping.record(1, std::nan("")));
  EXPECT_FALSE(stopping.has_best());
  EXPECT_TRUE(stopping.record(2, 3.0));
  for (int64_t epoch = 3; epoch < 50; ++epoch)
    EXPECT_FALSE(stopping.record(epoch, 4.0));
  EXPECT_FALSE(stopping.should_stop());
  EXPECT_EQ(stopping.best_epoch(), 2);
  EXPECT_THROW(stopping.record(0, 1.0), Error);
  EXPECT_THROW(EarlyStopping(-1), ConfigError);
}

TEST(EarlyStopping, SavedStateRoundTrips) {
  EarlyStopping empty(3);
  EarlyStopping restored_empty(3);
  restored_empty.load(nlohmann::json::parse(empty.save().dump()));
  EXPECT_FALSE(restored_empty.has_best());
  EXPECT_TRUE(restored_empty.record(1, 1e9));

  EarlyStopping stopping(3);
  stopping.record(1, 2.5);
  stopping.record(2, 2.25);
  stopping.record(3, 2.75);
  EarlyStopping restored(3);
  restored.load(nlohmann::json::parse(stopping.save().dump()));
  EXPECT_EQ(restored.best_epoch(), 2);
  EXPECT_EQ(restored.best_valid(), 2.25);
  EXPECT_EQ(restored.epochs_without_improvement(), 1);
  restored.record(4, 3.0);
  EXPECT_FALSE(restored.should_stop());
  restored.record(5, 3.0);
  EXPECT_TRUE(restored.should_stop());

  nlohmann::json bad = stopping.save();
  bad["best_valid"] = nullptr;
  EXPECT_THROW(restored.load(bad), InputError);
  bad = stopping.save();
  bad.erase("epochs_without_improvement");
  EXPECT_THROW(restored.load(bad), InputError);
}

}  // namespace
}  // namespace cadenza
