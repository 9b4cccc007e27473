// Successive halving as pure functions: the rungs, the promotions (best 1/eta, ties by trial
// number, failed trials never promoted, independent of the order of the results) and the table a
// variant's trials' progress gives.
#include <gtest/gtest.h>

#include <algorithm>

#include "config/search.hpp"
#include "core/error.hpp"
#include "search/search_table.hpp"
#include "search/successive_halving.hpp"

namespace cadenza {
namespace {

config::SearchSpec halving(int64_t min_epochs, int64_t eta) {
  return config::parse_search(
      {{"space", {{"model.layers", {{"choice", {1, 2}}}}}},
       {"trials", 9},
       {"pruner", {{"type", "successive_halving"}, {"min_epochs", min_epochs}, {"eta", eta}}}},
      "test.json");
}

TEST(SuccessiveHalving, RungsGrowByEtaUpToTrainEpochs) {
  EXPECT_EQ(rung_epochs(halving(1, 3), 9), (std::vector<int64_t>{1, 3, 9}));
  EXPECT_EQ(rung_epochs(halving(1, 3), 10), (std::vector<int64_t>{1, 3, 9, 10}));
  EXPECT_EQ(rung_epochs(halving(2, 3), 20), (std::vector<int64_t>{2, 6, 18, 20}));
  EXPECT_EQ(rung_epochs(halving(2, 2), 2), (std::vector<int64_t>{2}));
  const auto none = config::parse_search(
      {{"space", {{"model.layers", {{"choice", {1, 2}}}}}}, {"trials", 2}}, "test.json");
  EXPECT_EQ(rung_epochs(none, 7), (std::vector<int64_t>{7}));
  EXPECT_THROW(rung_epochs(halving(5, 3), 4), ConfigError);
}

TEST(SuccessiveHalving, PromotesTheBestThirdWithTiesToTheSmallerTrial) {
  const std::vector<RungResult> results = {{0, 3.0}, {1, 1.0}, {2, 2.0}, {3, 1.0}, {4, 5.0},
                                           {5, 0.5}, {6, 4.0}, {7, 6.0}, {8, 7.0}};
  EXPECT_EQ(promoted_trials(results, 3, true), (std::vector<size_t>{5, 1, 3}));
  EXPECT_EQ(promoted_trials(results, 3, false), (std::vector<size_t>{8, 7, 4}));
  EXPECT_EQ(promoted_trials(results, 2, true), (std::vector<size_t>{5, 1, 3, 2}));
  auto shuffled = results;
  std::reverse(shuffled.begin(), shuffled.end());
  std::rotate(shuffled.begin(), shuffled.begin() + 4, shuffled.end());
  EXPECT_EQ(promoted_trials(shuffled, 3, true), promoted_trials(results, 3, true));
  // Fewer results than eta still promote one; failed trials never go on.
  EXPECT_EQ(promoted_trials({{0, 2.0}, {1, 1.0}}, 3, true), (std::vector<size_t>{1}));
  EXPECT_EQ(promoted_trials({{0, std::nullopt}, {1, 9.0}, {2, std::nullopt}}, 3, true),
            (std::vector<size_t>{1}));
  EXPECT_TRUE(promoted_trials({{0, std::nullopt}, {1, std::nullopt}}, 2, true).empty());
}

// Progress with valid rows (epoch, objective) for epochs 1..rows.size().
TrialProgress trained(const std::vector<double>& rows, bool completed = false) {
  TrialProgress progress;
  for (size_t e = 0; e < rows.size(); ++e)
    progress.objective_by_epoch.emplace_back(static_cast<int64_t>(e + 1), rows[e]);
  progress.completed = completed;
  return progress;
}

TEST(SuccessiveHalving, TheTableOfAVariantFollowsItsTrialsProgress) {
  const auto spec = halving(1, 3);
  SearchVariant variant;
  variant.rungs = {1, 3, 9};
  std::vector<std::string> ids;
  for (int k = 0; k < 9; ++k)
    ids.push_back("run" + std::to_string(k));
  // Rung 1 (epoch 1): trial 4 has not finished its first epoch yet, so nothing is decided.
  std::vector<TrialProgress> progress;
  for (const double nll : {9.0, 5.0, 8.0, 4.0, 7.0, 3.0, 6.0, 8.5, 9.5})
    progress.push_back(trained({nll}));
  progress[4] = TrialProgress{};
  auto table = decide_variant(variant, progress, ids, spec);
  ASSERT_EQ(table.rungs.size(), 1u);
  EXPECT_FALSE(table.rungs[0].decided);
  EXPECT_FALSE(table.complete);
  // Its epoch ends: the best three (5, 3, 1) go on to epoch 3, the rest are pruned.
  progress[4] = trained({7.0});
  table = decide_variant(variant, progress, ids, spec);
  ASSERT_EQ(table.rungs.size(), 2u);
  EXPECT_EQ(table.rungs[0].promoted, (std::vector<size_t>{5, 3, 1}));
  EXPECT_EQ(table.rungs[1].entrants, (std::vector<size_t>{1, 3, 5}));
  EXPECT_EQ(table.trials[0].fate, TrialFate::kPruned);
  EXPECT_EQ(table.trials[5].fate, TrialFate::kTraining);
  EXPECT_EQ(table.best, 5u);
  EXPECT_EQ(table.epochs_spent, 9);
  // Epoch 3: trial 1 improves most (the best valid value up to the rung counts); trial 3 fails.
  progress[1] = trained({5.0, 2.0, 2.5});
  progress[3] = trained({4.0, 4.5});
  progress[3].failed = true;
  progress[5] = trained({3.0, 3.0, 2.9});
  table = decide_variant(variant, progress, ids, spec);
  ASSERT_EQ(table.rungs.size(), 3u);
  EXPECT_EQ(table.rungs[1].promoted, (std::vector<size_t>{1}));
  EXPECT_EQ(table.trials[3].fate, TrialFate::kFailed);
  EXPECT_EQ(table.trials[5].fate, TrialFate::kPruned);
  EXPECT_EQ(*table.trials[1].objective, 2.0);
  // The last rung needs the completed run, not only its rows through epoch 9.
  progress[1] = trained({5.0, 2.0, 2.5, 1.9, 1.8, 1.7, 1.6, 1.5, 1.55});
  table = decide_variant(variant, progress, ids, spec);
  EXPECT_FALSE(table.complete);
  progress[1].completed = true;
  table = decide_variant(variant, progress, ids, spec);
  EXPECT_TRUE(table.complete);
  EXPECT_EQ(table.best, 1u);
  EXPECT_EQ(*table.trials[1].objective, 1.5);
  EXPECT_EQ(table.trials[1].fate, TrialFate::kFinished);
  EXPECT_EQ(table.epochs_spent, 6 + 9 + 2 + 3);
}

TEST(SuccessiveHalving, TheBestObjectiveCurveCountsEpochsRungByRungAndSharedRunsOnce) {
  const auto spec = halving(1, 3);
  SearchVariant variant;
  variant.rungs = {1, 3};
  // Trials 0 and 2 drew the same values: one run, "a", trained and counted once.
  const std::vector<std::string> ids = {"a", "b", "a"};
  std::vector<TrialProgress> progress = {trained({5.0}), trained({4.0, 3.0, 3.5}, true),
                                         trained({5.0})};
  const auto table = decide_variant(variant, progress, ids, spec);
  ASSERT_TRUE(table.complete);
  EXPECT_EQ(table.epochs_spent, 1 + 3);
  // A result is the best of the epochs up to the rung, reported with the epoch it was reached at.
  EXPECT_EQ(table.trials[1].objective, 3.0);
  EXPECT_EQ(table.trials[1].objective_epoch, 2) << "the best epoch, not the rung's epoch 3";
  const auto curve = best_objective_curve(variant, table, progress, ids, true);
  EXPECT_EQ(curve,
            (std::vector<std::pair<int64_t, double>>{{1, 5.0}, {2, 4.0}, {3, 3.0}, {4, 3.0}}));
  // Maximised, the same epochs keep the highest value so far.
  const auto highest = best_objective_curve(variant, table, progress, ids, false);
  EXPECT_EQ(highest.back(), (std::pair<int64_t, double>{4, 5.0}));
}

TEST(SuccessiveHalving, PendingTasksTrainTheUndecidedRungsEntrantsUpToItsEpoch) {
  SearchPlan plan;
  plan.spec = halving(1, 3);
  SearchVariant variant;
  variant.rungs = {1, 3, 9};
  for (size_t k = 0; k < 9; ++k) {
    variant.trials.push_back(k);
    plan.trials.push_back({0, static_cast<int64_t>(k), {}, 8 - k});
  }
  plan.variants.push_back(variant);
  std::vector<TrialProgress> progress(9, trained({1.0}));
  progress[2] = trained({0.5, 0.4, 0.3});
  std::vector<std::string> ids(9, "");
  for (size_t k = 0; k < 9; ++k)
    ids[k] = std::to_string(k);
  const auto tables = std::vector<VariantTable>{decide_variant(variant, progress, ids, plan.spec)};
  // Promoted: trial 2 (best), then 0 and 1 (ties by number); trial 2 has reached epoch 3 already.
  const auto tasks = pending_tasks(plan, tables);
  ASSERT_EQ(tasks.size(), 2u);
  EXPECT_EQ(tasks[0].run, 7u);  // trial 1
  EXPECT_EQ(tasks[1].run, 8u);  // trial 0
  EXPECT_EQ(tasks[0].until_epoch, 3);
}

}  // namespace
}  // namespace cadenza
