// Search declarations: the block's validation (in the library and as exit code 2 through the CLI),
// the bounds and every trial checked by the schema, the objective restricted to the valid split,
// per-variant searches sharing their points, and the search block kept out of run ids.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "config/resolve.hpp"
#include "core/error.hpp"
#include "search/search_plan.hpp"
#include "support/process.hpp"

namespace cadenza {
namespace {

using testing::run_cadenza;
using testing::ScratchDir;

// An experiment extending experiments/smoke.json with `body` (JSON members, comma-led).
std::filesystem::path experiment(const ScratchDir& dir, const std::string& name,
                                 const std::string& body) {
  const auto path = dir / (name + ".json");
  std::ofstream(path) << R"({"extends": ")"
                      << (testing::source_dir() / "experiments" / "smoke.json").string()
                      << R"(", "name": ")" << name << "\"" << body << "}";
  return path;
}

std::string plan_error(const std::filesystem::path& file) {
  try {
    plan_search(file);
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << file << " was accepted";
  return "";
}

bool contains(const std::string& text, const std::string& fragment) {
  return text.find(fragment) != std::string::npos;
}

// A valid search over lr and hidden size, with `extra` members added to the block.
std::string search_block(const std::string& extra) {
  return R"(, "search": {"space": {"train.optimizer.lr": {"loguniform": [0.001, 0.01]},
                                   "model.hidden_size": {"int": [8, 32], "log": true}},
                         "trials": 4)" +
         extra + "}";
}

TEST(SearchPlan, TrialsAreResolvedConfigsWithTheSampledValues) {
  ScratchDir dir;
  const SearchPlan plan = plan_search(experiment(
      dir, "plan", search_block(R"(, "pruner": {"type": "successive_halving", "eta": 2})")));
  ASSERT_EQ(plan.variants.size(), 1u);
  EXPECT_EQ(plan.variants[0].label, "base");
  EXPECT_EQ(plan.variants[0].rungs, (std::vector<int64_t>{1, 2, 3}));
  ASSERT_EQ(plan.trials.size(), 4u);
  for (const auto& trial : plan.trials) {
    const auto& config = plan.run_of(trial).resolved.config;
    ASSERT_EQ(trial.values.size(), 2u);
    EXPECT_EQ(trial.values[0].first, "model.hidden_size");
    EXPECT_EQ(config.model.hidden_size, trial.values[0].second.get<int64_t>());
    EXPECT_EQ(config.train.optimizer.lr, trial.values[1].second.get<double>());
    EXPECT_EQ(plan.run_of(trial).dir.filename(), plan.run_of(trial).run_id());
  }
}

TEST(SearchPlan, TheSearchBlockIsKeptOutOfRunIds) {
  ScratchDir dir;
  const auto plain = config::resolve_experiment(experiment(dir, "same", ""), {});
  const auto with_search =
      config::resolve_experiment(experiment(dir, "same", search_block("")), {});
  EXPECT_EQ(plain.run_id, with_search.run_id);
}

TEST(SearchPlan, InvalidBlocksNameTheFileTheMemberAndWhatIsValid) {
  ScratchDir dir;
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {search_block(R"(, "objective": "test.nll")"),
       {"'test.nll' is a test metric", "leaks the test set into the model choice",
        "Zakovskis et al. 2021", "use 'valid.nll'"}},
      {search_block(R"(, "objective": "train.nll")"), {"selects on the valid split only"}},
      {search_block(R"(, "objective": "valid.nl")"), {"unknown metric 'nl'", "did you mean 'nll'"}},
      {search_block(R"(, "sampler": "sobl")"), {"search.sampler \"sobl\"", "did you mean 'sobol'"}},
      {search_block(R"(, "pruner": {"type": "successive_halving", "eta": 1})"),
       {"search.pruner.eta must be an integer >= 2, got 1"}},
      {search_block(R"(, "pruner": {"type": "hyperband"})"), {"valid: none, successive_halving"}},
      {search_block(R"(, "pruner": {"type": "successive_halving", "min_epochs": 5})"),
       {"min_epochs = 5 exceeds train.epochs = 3"}},
      {search_block(R"(, "trails": 3)"), {"unknown member 'trails'", "did you mean 'trials'"}},
      {R"(, "search": {"space": {"model.hiden_size": {"int": [8, 32]}}, "trials": 2})",
       {"search.space: unknown key 'model.hiden_size'", "did you mean 'model.hidden_size'"}},
      {R"(, "search": {"space": {"seed": {"int": [1, 9]}}, "trials": 2})",
       {"'seed' cannot be searched"}},
      {R"(, "search": {"space": {"train.epochs": {"int": [1, 9]}}, "trials": 2})",
       {"'train.epochs' cannot be searched"}},
      {R"(, "search": {"space": {"train.optimizer.lr": {"loguniform": [0, 0.1]}}, "trials": 2})",
       {"search.space.train.optimizer.lr", "needs bounds above 0"}},
      {R"(, "search": {"space": {"model.layers": {"int": [3, 1]}}, "trials": 2})", {"low <= high"}},
      {R"(, "search": {"space": {"model.layers": {"int": [1.5, 3]}}, "trials": 2})",
       {"\"int\" bounds must be integers"}},
      {R"(, "search": {"space": {"model.layers": {"gauss": [1, 3]}}, "trials": 2})",
       {"unknown member 'gauss'"}},
      {R"(, "search": {"space": {"model.layers": {"choice": [1, 1]}}, "trials": 2})",
       {"lists 1 twice"}},
      {R"(, "search": {"space": {"model.layers": {"choice": [1, 2]}}, "trials": 0})",
       {"search.trials must be an integer in [1, 10000], got 0"}},
      // The schema's own range checks on the bounds, before any trial is drawn.
      {R"(, "search": {"space": {"model.dropout.output": {"uniform": [0.0, 0.99]}}, "trials": 2})",
       {"search.space.model.dropout.output (uniform [0, 0.99]): 0.99 is not a valid value",
        "key 'model.dropout.output' must be"}},
      {R"(, "search": {"space": {"model.layers": {"choice": [1, 9]}}, "trials": 2})",
       {"search.space.model.layers", "9 is not a valid value", "[1, 8]"}},
      {R"(, "search": {"space": {"model.layers": {"choice": [1, 2]}}, "trials": 2},
             "sweep": {"grid": {"model.hidden_size": [8, 16]}})",
       {"both 'sweep' and 'search' blocks", "\"per_variant\": true"}},
      {R"(, "search": {"space": {"model.layers": {"choice": [1, 2]}}, "trials": 2,
                       "per_variant": true},
             "sweep": {"grid": {"seed": [1, 2]}})",
       {"a 'seed' axis cannot make variants of a search"}},
      {R"(, "search": {"space": {"model.layers": {"choice": [1, 2]}}, "trials": 2,
                       "per_variant": true},
             "sweep": {"grid": {"model.layers": [1, 2]}})",
       {"'model.layers' is both a sweep axis and a search.space key"}},
  };
  for (const auto& [body, fragments] : cases) {
    const auto file = experiment(dir, "bad", body);
    const std::string message = plan_error(file);
    EXPECT_TRUE(contains(message, file.string())) << message;
    for (const auto& fragment : fragments)
      EXPECT_TRUE(contains(message, fragment)) << body << "\n -> " << message;
  }
}

TEST(SearchPlan, ASampledValueTheSchemaRejectsNamesTheTrialAndTheKey) {
  ScratchDir dir;
  // Both choices are valid values of model.type, but a seq2seq model needs segment framing: the
  // first Sobol point (0.5) draws the second choice, and resolving trial 0 like `cadenza train`
  // refuses it, naming the trial, its values and the rule.
  const std::string message = plan_error(experiment(
      dir, "trial",
      R"(, "search": {"space": {"model.type": {"choice": ["lm", "seq2seq"]}}, "trials": 3,
                      "sampler": "sobol"})"));
  EXPECT_TRUE(contains(message, "search trial 0 of 3 (variant base; model.type=seq2seq)"))
      << message;
  EXPECT_TRUE(contains(message, "model.type = \"seq2seq\" needs data.framing = \"segments\""))
      << message;
}

TEST(SearchPlan, PerVariantSearchesShareTheirPoints) {
  ScratchDir dir;
  const SearchPlan plan = plan_search(
      experiment(dir, "paired",
                 search_block(R"(, "per_variant": true, "sampler": "random", "seed": 7)") +
                     R"(, "sweep": {"grid": {"model.layers": [1, 2]}})"));
  ASSERT_EQ(plan.variants.size(), 2u);
  EXPECT_EQ(plan.variants[0].label, "model.layers=1");
  EXPECT_EQ(plan.variants[1].label, "model.layers=2");
  ASSERT_EQ(plan.trials.size(), 8u);
  for (size_t k = 0; k < 4; ++k) {
    const SearchTrial& first = plan.trials[plan.variants[0].trials[k]];
    const SearchTrial& second = plan.trials[plan.variants[1].trials[k]];
    EXPECT_EQ(first.number, second.number);
    EXPECT_EQ(first.values, second.values) << "trial " << k;
    EXPECT_NE(plan.run_of(first).run_id(), plan.run_of(second).run_id());
    EXPECT_EQ(plan.run_of(second).resolved.config.model.layers, 2);
  }
}

TEST(SearchCli, InvalidSearchExitsTwoAndWritesNothing) {
  ScratchDir dir;
  const auto file = experiment(dir, "cli_bad", search_block(R"(, "objective": "test.nll")"));
  const std::string searches = (dir / "searches").string();
  for (const char* flags : {"", " --status"}) {
    const auto result =
        run_cadenza("search '" + file.string() + "' --searches-dir '" + searches + "'" + flags);
    EXPECT_EQ(result.exit_code, 2) << result.err;
    EXPECT_TRUE(contains(result.err, "config error: ")) << result.err;
    EXPECT_TRUE(contains(result.err, "leaks the test set")) << result.err;
  }
  const auto none =
      run_cadenza("search '" + (testing::source_dir() / "experiments" / "smoke.json").string() +
                  "' --searches-dir '" + searches + "'");
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_TRUE(contains(none.err, "no 'search' block")) << none.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "searches")) << "a rejected search must write nothing";
}

}  // namespace
}  // namespace cadenza
