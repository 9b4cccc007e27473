// The confirmation of a search: fresh seeds (new to the selection, the same for every variant),
// the confirmation runs planned from each variant's best trial (its config with another seed), and
// through the real binary a per-variant search run by two processes on one folder, its winners
// confirmed once each, `cadenza compare` over the search folder pairing the tuned variants and
// saying that the selection used validation data only, and the search's report.
#include <gtest/gtest.h>

#include <set>

#include "experiments/compare_test_util.hpp"
#include "search/search_confirm.hpp"
#include "search/search_plan.hpp"
#include "sweeps/sweep_test_support.hpp"

namespace cadenza {
namespace {

namespace fs = std::filesystem;
using testing::BackgroundCadenza;
using testing::count_occurrences;
using testing::last_json_line;
using testing::read_json;
using testing::run_cadenza;
using testing::ScratchDir;

bool contains(const std::string& text, const std::string& fragment) {
  return text.find(fragment) != std::string::npos;
}

// A per-variant search of the smoke lm (an LSTM and a GRU variant) with `body` (comma-led JSON
// members) after the sweep: 3 trials per variant, rungs of 1 and 3 epochs.
fs::path paired_search(const ScratchDir& dir, const std::string& name, const std::string& body) {
  return testing::experiment_extending(dir, "smoke", name,
                                       R"(,
    "train": {"epochs": 3}, "threads": {"compute": 1},
    "sweep": {"grid": {"model.cell": ["lstm", "gru"]}},
    "search": {
      "space": {"train.optimizer.lr": {"loguniform": [0.001, 0.03]},
                "model.hidden_size": {"int": [8, 32], "log": true}},
      "trials": 3, "sampler": "sobol", "per_variant": true,
      "pruner": {"type": "successive_halving", "min_epochs": 1, "eta": 3})" +
                                           body + "}");
}

// The config of a run without its seed.
nlohmann::json without_seed(const PlannedRun& run) {
  nlohmann::json canonical = run.resolved.canonical;
  canonical.erase("seed");
  return canonical;
}

TEST(SearchConfirm, SeedsAreTheSmallestPositiveIntegersOtherThanTheTrialsSeed) {
  EXPECT_EQ(confirmation_seeds(1, 5), (std::vector<int64_t>{2, 3, 4, 5, 6}));
  EXPECT_EQ(confirmation_seeds(3, 4), (std::vector<int64_t>{1, 2, 4, 5}));
  EXPECT_EQ(confirmation_seeds(0, 2), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(confirmation_seeds(INT64_MAX, 1), (std::vector<int64_t>{1}));
}

TEST(SearchConfirm, EachVariantsBestTrialIsPlannedAgainWithTheSameFreshSeeds) {
  ScratchDir dir;
  const SearchPlan plan =
      plan_search(paired_search(dir, "planned", R"(, "confirm": {"seeds": 3})"));
  ASSERT_EQ(plan.spec.confirm_seeds, 3);
  ASSERT_EQ(plan.variants.size(), 2u);
  std::vector<VariantTable> tables(2);
  tables[0].complete = true;
  tables[0].best = 2;
  tables[1].complete = true;
  tables[1].best = 0;
  const SweepPlan confirmation = plan_confirmation(plan, tables);
  ASSERT_EQ(confirmation.runs.size(), 6u);
  EXPECT_TRUE(contains(confirmation.selection, "validation data only")) << confirmation.selection;
  EXPECT_TRUE(contains(confirmation.selection, "seeds 2, 3, 4")) << confirmation.selection;
  EXPECT_TRUE(contains(confirmation.selection,
                       "by valid.nll (minimised) over its "
                       "successive-halving rungs"))
      << confirmation.selection;
  std::set<std::string> ids;
  for (size_t i = 0; i < confirmation.runs.size(); ++i) {
    const PlannedRun& run = confirmation.runs[i];
    const size_t v = i / 3;
    const SearchTrial& best = plan.trials[plan.variants[v].trials[*tables[v].best]];
    const PlannedRun& trial = plan.run_of(best);
    EXPECT_EQ(run.variant, plan.variants[v].label);
    EXPECT_EQ(run.resolved.config.seed, static_cast<int64_t>(2 + i % 3)) << "the same seeds";
    EXPECT_NE(run.resolved.config.seed, trial.resolved.config.seed) << "a fresh seed";
    EXPECT_EQ(without_seed(run), without_seed(trial)) << "the best trial's config";
    EXPECT_EQ(run.dir, fs::path("runs") / "planned" / run.run_id());
    EXPECT_TRUE(ids.insert(run.run_id()).second);
    EXPECT_NE(run.run_id(), trial.run_id());
  }
  // A variant whose last rung is not decided yet has nothing to confirm.
  tables[1].complete = false;
  EXPECT_EQ(plan_confirmation(plan, tables).runs.size(), 3u);
  // Without confirm.seeds nothing is confirmed.
  const SearchPlan unconfirmed = plan_search(paired_search(dir, "unconfirmed", ""));
  EXPECT_EQ(unconfirmed.spec.confirm_seeds, 0);
  EXPECT_TRUE(plan_confirmation(unconfirmed, tables).runs.empty());
}

TEST(SearchConfirm, InvalidConfirmBlocksNameTheMemberAndWhatIsValid) {
  ScratchDir dir;
  for (const auto& [body, expected] : std::vector<std::pair<std::string, std::string>>{
           {R"(, "confirm": {"seeds": 0})", "search.confirm.seeds must be an integer in [1, 100]"},
           {R"(, "confirm": {"seed": 3})", "search.confirm must be an object {\"seeds\": n}"},
           {R"(, "confirm": {"seeds": 3, "runs": 1})", "unknown member 'runs'"},
           {R"(, "confirm": 3)", "search.confirm must be an object"}}) {
    const fs::path file = paired_search(dir, "bad", body);
    try {
      plan_search(file);
      ADD_FAILURE() << body << " was accepted";
    } catch (const ConfigError& e) {
      EXPECT_TRUE(contains(e.what(), file.string())) << e.what();
      EXPECT_TRUE(contains(e.what(), expected)) << e.what();
    }
  }
}

TEST(SearchConfirmRun, TwoProcessesConfirmEachWinnerOnceAndCompareReportsThemPaired) {
  ScratchDir dir;
  const fs::path experiment = paired_search(dir, "confirmed", R"(, "confirm": {"seeds": 2})");
  const fs::path searches = dir / "searches";
  const fs::path folder = searches / "confirmed";
  const std::vector<std::string> arguments = {
      "search", experiment.string(), "--searches-dir", searches.string(), "--jobs", "1"};
  BackgroundCadenza first(arguments, dir.path(), "first");
  BackgroundCadenza second(arguments, dir.path(), "second");
  ASSERT_EQ(first.wait(), 0) << first.err();
  ASSERT_EQ(second.wait(), 0) << second.err();
  // Rungs: 3 + 1 trial attempts per variant; then 2 confirmation runs per variant, each once.
  const size_t attempts = last_json_line(first.out())["attempts"].get<size_t>() +
                          last_json_line(second.out())["attempts"].get<size_t>();
  EXPECT_EQ(attempts, 2u * (3 + 1) + 2u * 2) << "a run was trained twice";

  const SearchPlan plan = plan_search(experiment);
  const auto decisions = read_json(folder / "decisions.json");
  const auto summary = last_json_line(first.out());
  EXPECT_EQ(summary["variants"], last_json_line(second.out())["variants"]);
  const auto sweep = read_json(folder / "confirm" / "sweep.json");
  EXPECT_TRUE(contains(sweep["selection"].get<std::string>(), "validation data only"));
  ASSERT_EQ(sweep["runs"].size(), 4u);
  for (size_t v = 0; v < 2; ++v) {
    const auto& variant = summary["variants"][v];
    EXPECT_EQ(variant["best_trial"], decisions["variants"][v]["best_trial"]);
    ASSERT_EQ(variant["confirmations"].size(), 2u);
    for (size_t s = 0; s < 2; ++s) {
      const auto& confirmation = variant["confirmations"][s];
      EXPECT_EQ(confirmation["seed"], 2 + s);
      EXPECT_EQ(confirmation["state"], "done");
      EXPECT_TRUE(confirmation["test_nll"].is_number());
      const fs::path run_dir =
          folder / "confirm" / sweep["runs"][2 * v + s]["dir"].get<std::string>();
      EXPECT_EQ(run_dir.filename(), confirmation["run_id"].get<std::string>());
      EXPECT_EQ(count_occurrences(testing::slurp(run_dir / "log.txt"), "] epoch "), 3u)
          << "each confirmation run trains its 3 epochs once";
      EXPECT_EQ(read_json(run_dir / "config.json")["seed"], 2 + s);
    }
  }

  const auto status = run_cadenza("search '" + experiment.string() + "' --status --searches-dir '" +
                                  searches.string() + "'");
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_EQ(count_occurrences(status.out, "with seeds 2, 3: 2 done, 0 running, 0 failed"), 2u)
      << status.out;

  // compare over the search folder: the confirmation runs, paired seed by seed.
  const auto compared = run_cadenza("compare '" + folder.string() + "'");
  ASSERT_EQ(compared.exit_code, 0) << compared.err;
  EXPECT_TRUE(contains(compared.out,
                       "Selection: each variant's configuration is the best trial "
                       "of search confirmed by valid.nll"))
      << compared.out;
  EXPECT_TRUE(contains(compared.out, "validation data only")) << compared.out;
  EXPECT_TRUE(contains(compared.out, "Runs: 4 in the statistics, 0 left out")) << compared.out;
  EXPECT_TRUE(contains(compared.out, "model.cell=gru")) << compared.out;
  EXPECT_TRUE(contains(compared.out, "| JSB_Chorales | nll | 2 |")) << compared.out;
  EXPECT_TRUE(fs::exists(folder / "compare" / "report.html"));
  const auto confirm_folder = run_cadenza("compare '" + (folder / "confirm").string() + "'");
  ASSERT_EQ(confirm_folder.exit_code, 0) << confirm_folder.err;
  EXPECT_TRUE(contains(confirm_folder.out, "validation data only")) << confirm_folder.out;

  // The search's own report: the budget, the variants, then the confirmed configs side by side.
  const std::string md = testing::slurp(folder / "report.md");
  EXPECT_TRUE(contains(md, "Selection on validation data only")) << md;
  EXPECT_TRUE(contains(md, "## Variant model.cell=lstm")) << md;
  EXPECT_TRUE(contains(md, "## Variant model.cell=gru")) << md;
  EXPECT_TRUE(contains(md, "## Confirmed configs")) << md;
  EXPECT_TRUE(contains(md, "| 2, 3 | 2 of 2 |")) << md;
  EXPECT_TRUE(contains(md, "### Paired differences to the baseline")) << md;
  EXPECT_EQ(count_occurrences(md, " | 5 | 9 | 56% | 2 of 2 completed | 6 |"), 2u)
      << "each variant's budget: 5 epochs spent of 9, and 6 confirmation epochs\n"
      << md;
  const auto blocks = testing::svg_blocks(testing::slurp(folder / "report.html"));
  EXPECT_EQ(blocks.size(), 2u * (2 + 1)) << "per variant, a scatter per key and the budget curve";
  const auto parsed = testing::parse_as_xml(blocks);
  EXPECT_EQ(parsed.exit_code, 0) << parsed.err;

  // A rerun trains nothing and finds the same winners.
  const auto rerun = run_cadenza("search '" + experiment.string() + "' --searches-dir '" +
                                 searches.string() + "'");
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
  EXPECT_EQ(last_json_line(rerun.out)["attempts"], 0);
  EXPECT_EQ(last_json_line(rerun.out)["variants"], summary["variants"]);
}

}  // namespace
}  // namespace cadenza
