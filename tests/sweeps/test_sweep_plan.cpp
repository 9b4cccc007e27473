// Sweep declarations: expansion (grid, zip, seed axis), stable run ids, validation errors (in the
// library and as exit code 2 through the CLI), shards, and `train`/`config` on a sweep file.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "config/resolve.hpp"
#include "core/error.hpp"
#include "support/process.hpp"
#include "sweeps/sweep_plan.hpp"

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
    plan_sweep(file);
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << file << " was accepted";
  return "";
}

bool contains(const std::string& text, const std::string& fragment) {
  return text.find(fragment) != std::string::npos;
}

const char* kGridZipSeed =
    R"(, "sweep": {"grid": {"seed": [1, 2, 3], "model.layers": [1, 2]},
                   "zip": [{"model.hidden_size": [16, 24], "train.optimizer.lr": [0.01, 0.02]}]})";

TEST(SweepPlan, GridTimesZipTimesSeedsInDocumentedOrder) {
  ScratchDir dir;
  const SweepPlan plan = plan_sweep(experiment(dir, "expand", kGridZipSeed));
  ASSERT_EQ(plan.runs.size(), 2u * 2 * 3);
  EXPECT_EQ(plan.name, "expand");
  // Grid axes (seed aside), then the zip group, then seed, the last varying fastest.
  const auto& first = plan.runs[0];
  ASSERT_EQ(first.overrides.size(), 4u);
  EXPECT_EQ(first.overrides[0].first, "model.layers");
  EXPECT_EQ(first.overrides[1].first, "model.hidden_size");
  EXPECT_EQ(first.overrides[2].first, "train.optimizer.lr");
  EXPECT_EQ(first.overrides[3].first, "seed");
  EXPECT_EQ(first.variant, "model.layers=1, model.hidden_size=16, train.optimizer.lr=0.01");
  EXPECT_EQ(plan.runs[1].variant, first.variant);
  EXPECT_EQ(plan.runs[1].resolved.config.seed, 2);
  EXPECT_EQ(plan.runs[3].variant, "model.layers=1, model.hidden_size=24, train.optimizer.lr=0.02");
  EXPECT_EQ(plan.runs[6].variant, "model.layers=2, model.hidden_size=16, train.optimizer.lr=0.01");
  std::set<std::string> ids;
  for (const auto& run : plan.runs) {
    // The zip group's values move together.
    const auto& config = run.resolved.config;
    EXPECT_EQ(config.model.hidden_size == 16, config.train.optimizer.lr == 0.01);
    EXPECT_EQ(run.dir, std::filesystem::path("runs") / "expand" / run.run_id());
    ids.insert(run.run_id());
  }
  EXPECT_EQ(ids.size(), plan.runs.size());
  const auto document = sweep_document(plan);
  EXPECT_EQ(document["format"], "cadenza-sweep");
  EXPECT_EQ(document["version"], 1);
  EXPECT_EQ(document["runs"].size(), plan.runs.size());
  EXPECT_EQ(document["runs"][0]["overrides"]["model.hidden_size"], 16);
  EXPECT_EQ(document["runs"][0]["dataset"], "JSB_Chorales");
  EXPECT_EQ(document["runs"][0]["seed"], 1);
  EXPECT_EQ(document["axes"]["zip"][0]["train.optimizer.lr"][1], 0.02);
}

TEST(SweepPlan, RunIdsAreTheConfigHashOfTrainWithOverrides) {
  ScratchDir dir;
  const auto file = experiment(dir, "ids", kGridZipSeed);
  const SweepPlan plan = plan_sweep(file);
  for (const auto& run : plan.runs) {
    EXPECT_EQ(run.run_id(), config::resolve_experiment(file, run.override_args).run_id);
  }
  // The same axes written in another order give the same runs.
  const auto reordered = experiment(
      dir, "ids",
      R"(, "sweep": {"zip": [{"train.optimizer.lr": [0.01, 0.02], "model.hidden_size": [16, 24]}],
                     "grid": {"model.layers": [1, 2], "seed": [1, 2, 3]}})");
  std::set<std::string> first, second;
  for (const auto& run : plan.runs)
    first.insert(run.run_id());
  for (const auto& run : plan_sweep(reordered).runs)
    second.insert(run.run_id());
  EXPECT_EQ(first, second);
  // A run's id depends on its config only, not on the sweep around it.
  const auto wider = experiment(
      dir, "ids",
      R"(, "sweep": {"zip": [{"train.optimizer.lr": [0.01, 0.02], "model.hidden_size": [16, 24]}],
                     "grid": {"model.layers": [1, 2, 3], "seed": [1, 2, 3, 4]}})");
  std::set<std::string> wider_ids;
  for (const auto& run : plan_sweep(wider).runs)
    wider_ids.insert(run.run_id());
  EXPECT_TRUE(std::includes(wider_ids.begin(), wider_ids.end(), first.begin(), first.end()));
}

TEST(SweepPlan, NoSweepBlockIsOneRunOfTheBaseConfig) {
  const auto smoke = testing::source_dir() / "experiments" / "smoke.json";
  const SweepPlan plan = plan_sweep(smoke);
  ASSERT_EQ(plan.runs.size(), 1u);
  EXPECT_EQ(plan.runs[0].variant, "base");
  EXPECT_EQ(plan.runs[0].run_id(), config::resolve_experiment(smoke, {}).run_id);
  EXPECT_TRUE(plan.axes.empty());
}

TEST(SweepPlan, SmokeSweepIsTwoVariantsTimesTwoSeeds) {
  const SweepPlan plan = plan_sweep(testing::source_dir() / "experiments" / "smoke_sweep.json");
  ASSERT_EQ(plan.runs.size(), 4u);
  std::set<std::string> variants;
  std::set<int64_t> seeds;
  for (const auto& run : plan.runs) {
    variants.insert(run.variant);
    seeds.insert(run.resolved.config.seed);
    EXPECT_EQ(run.resolved.config.train.epochs, 3);
    EXPECT_EQ(run.resolved.config.threads.compute, 0) << "the sweep decides the cores";
  }
  EXPECT_EQ(variants.size(), 2u);
  EXPECT_EQ(seeds, (std::set<int64_t>{1, 2}));
}

TEST(SweepPlan, ShapeErrorsNameTheFileTheMemberAndWhatIsValid) {
  ScratchDir dir;
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {R"(, "sweep": {"grid": {"model.hiden_size": [16, 32]}})",
       {"sweep.grid: unknown key 'model.hiden_size'", "did you mean 'model.hidden_size'"}},
      {R"(, "sweep": {"grid": {"model.dropout": [0.1]}})",
       {"'model.dropout' is a section", "model.dropout.input"}},
      {R"(, "sweep": {"zip": [{"model.layers": [1, 2], "model.hidden_size": [16, 24, 32]}]})",
       {"sweep.zip[0]", "equal lengths", "'model.layers' has 2", "'model.hidden_size' has 3"}},
      {R"(, "sweep": {"zip": [{"model.layers": [1, 2, 1], "seed": [1, 2, 1]}]})",
       {"sweep.zip[0]: setting 3", "repeats an earlier one"}},
      {R"(, "sweep": {"grid": {"seed": []}})", {"'seed' must be a non-empty list of values"}},
      {R"(, "sweep": {"grid": {"seed": 3}})", {"'seed' must be a non-empty list", "got 3"}},
      {R"(, "sweep": {"grid": {"model.layers": [[1, 2]]}})", {"not a string, number or boolean"}},
      {R"(, "sweep": {"grid": {"seed": [1, 2, 1]}})", {"lists 1 twice"}},
      {R"(, "sweep": {"grid": {"seed": [1, 2]}, "zip": [{"seed": [3, 4]}]})",
       {"key 'seed' varies on two axes", "sweep.grid and sweep.zip[0]"}},
      {R"(, "sweep": {"grid": {"name": ["a", "b"]}})", {"key 'name' cannot be varied"}},
      {R"(, "sweep": {"grd": {"seed": [1, 2]}})",
       {"unknown member 'grd'", "did you mean 'grid'", "valid: grid, zip"}},
      {R"(, "sweep": {})", {"declares no axes"}},
      {R"(, "sweep": {"zip": [{"model.layers": [1, 2]}, {"model.layers": [3, 4]}]})",
       {"varies on two axes"}},
      {R"(, "sweep": {"zip": {"model.layers": [1, 2]}})", {"sweep.zip must be a non-empty list"}},
      {R"(, "sweep": [1, 2])", {"'sweep' must be an object"}},
  };
  for (const auto& [body, fragments] : cases) {
    const auto file = experiment(dir, "bad", body);
    const std::string message = plan_error(file);
    EXPECT_TRUE(contains(message, file.string())) << message;
    for (const auto& fragment : fragments)
      EXPECT_TRUE(contains(message, fragment)) << body << "\n -> " << message;
  }
}

TEST(SweepPlan, ValuesAreValidatedExactlyLikeTrain) {
  ScratchDir dir;
  // A value outside the key's range: the run, its settings and the schema's message.
  const std::string range =
      plan_error(experiment(dir, "range", R"(, "sweep": {"grid": {"model.layers": [1, 9]}})"));
  EXPECT_TRUE(contains(range, "sweep run 2 of 2 (model.layers=9)")) << range;
  EXPECT_TRUE(contains(range, "key 'model.layers' must be an integer in [1, 8], got 9")) << range;
  // A wrong type.
  const std::string type =
      plan_error(experiment(dir, "type", R"(, "sweep": {"grid": {"model.hidden_size": ["big"]}})"));
  EXPECT_TRUE(contains(type, "model.hidden_size")) << type;
  // A value valid alone but not with the rest of the config (attention needs seq2seq)...
  const std::string combination = plan_error(
      experiment(dir, "combo", R"(, "sweep": {"grid": {"model.attention": ["none", "dot"]}})"));
  EXPECT_TRUE(contains(combination, "sweep run 2 of 2 (model.attention=dot)")) << combination;
  EXPECT_TRUE(contains(combination, "needs model.type = \"seq2seq\"")) << combination;
  // ...which a zip group can make valid by varying the keys together.
  const SweepPlan ablation =
      plan_sweep(experiment(dir, "zipped",
                            R"(, "sweep": {"zip": [{"model.type": ["lm", "seq2seq", "seq2seq"],
                              "model.attention": ["none", "none", "dot"],
                              "data.framing": ["full", "segments", "segments"]}]})"));
  ASSERT_EQ(ablation.runs.size(), 3u);
  EXPECT_EQ(ablation.runs[2].resolved.config.model.attention, config::AttentionKind::dot);
}

TEST(SweepPlan, ShardsPartitionThePlanDeterministically) {
  ScratchDir dir;
  const SweepPlan plan = plan_sweep(experiment(dir, "shards", kGridZipSeed));
  for (int count = 1; count <= 5; ++count) {
    std::vector<size_t> all;
    for (int index = 0; index < count; ++index) {
      const auto part = shard_runs(plan, {index, count});
      EXPECT_EQ(part, shard_runs(plan, parse_shard(fmt::format("{}/{}", index, count))));
      EXPECT_TRUE(std::is_sorted(part.begin(), part.end()));
      // Balanced: sizes differ by at most one.
      EXPECT_LE(part.size(), (plan.runs.size() + count - 1) / count);
      EXPECT_GE(part.size(), plan.runs.size() / count);
      all.insert(all.end(), part.begin(), part.end());
    }
    std::sort(all.begin(), all.end());
    ASSERT_EQ(all.size(), plan.runs.size()) << count << " shards overlap or miss runs";
    for (size_t i = 0; i < all.size(); ++i)
      EXPECT_EQ(all[i], i);
  }
  for (const char* bad : {"2/2", "-1/2", "1", "a/b", "0/0", "1/2/3", ""}) {
    EXPECT_THROW(parse_shard(bad), UsageError) << bad;
  }
}

TEST(SweepCli, InvalidSweepExitsTwoAndWritesNothing) {
  ScratchDir dir;
  const auto file =
      experiment(dir, "cli_bad",
                 R"(, "sweep": {"zip": [{"model.layers": [1, 2], "model.hidden_size": [16]}]})");
  const std::string sweeps = (dir / "sweeps").string();
  for (const std::string& command :
       {"sweep '" + file.string() + "' --sweeps-dir '" + sweeps + "'",
        "sweep '" + file.string() + "' --status --sweeps-dir '" + sweeps + "'",
        "config --dump '" + file.string() + "'"}) {
    const auto result = run_cadenza(command);
    EXPECT_EQ(result.exit_code, 2) << command << "\n" << result.err;
    EXPECT_TRUE(contains(result.err, "config error: ")) << result.err;
    EXPECT_TRUE(contains(result.err, "equal lengths")) << result.err;
  }
  const auto typo = experiment(dir, "cli_typo", R"(, "sweep": {"grid": {"sed": [1, 2]}})");
  const auto result = run_cadenza("sweep '" + typo.string() + "' --sweeps-dir '" + sweeps + "'");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_TRUE(contains(result.err, "unknown key 'sed' (did you mean 'seed'?)")) << result.err;
  const auto range = experiment(dir, "cli_range", R"(, "sweep": {"grid": {"seed": [1, -1]}})");
  const auto rejected = run_cadenza("sweep '" + range.string() + "' --sweeps-dir '" + sweeps + "'");
  EXPECT_EQ(rejected.exit_code, 2);
  EXPECT_TRUE(contains(rejected.err, "sweep run 2 of 2 (seed=-1)")) << rejected.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "sweeps")) << "a rejected sweep must write nothing";
  for (const char* bad_flag : {"--shard 3/3", "--jobs 0"}) {
    const auto usage = run_cadenza(
        "sweep '" + (testing::source_dir() / "experiments" / "smoke_sweep.json").string() + "' " +
        bad_flag + " --sweeps-dir '" + sweeps + "'");
    EXPECT_EQ(usage.exit_code, 2) << bad_flag;
    EXPECT_TRUE(contains(usage.err, "usage error")) << usage.err;
  }
}

TEST(SweepCli, ConfigDumpListsTheRunsOfASweep) {
  const auto file = testing::source_dir() / "experiments" / "smoke_sweep.json";
  const auto result = run_cadenza("config --dump '" + file.string() + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(nlohmann::json::parse(result.out)["name"], "smoke_sweep");
  EXPECT_TRUE(contains(result.err, "sweep of 4 runs")) << result.err;
  for (const auto& run : plan_sweep(file).runs)
    EXPECT_TRUE(contains(result.err, run.run_id())) << result.err;
}

TEST(SweepCli, TrainOnASweepFileTrainsOneConfigAndSaysSo) {
  ScratchDir dir;
  const auto file = testing::source_dir() / "experiments" / "smoke_sweep.json";
  const auto result =
      run_cadenza("train '" + file.string() +
                  "' train.max_steps=2 train.epochs=1 threads.compute=1 --runs-dir '" +
                  (dir / "runs").string() + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(contains(result.err, "declares a sweep of 4 runs; this trains one config"))
      << result.err;
  EXPECT_TRUE(contains(result.err, "cadenza sweep")) << result.err;
  // With every axis key set, it is exactly one run of the sweep: no note.
  const auto pinned = run_cadenza(
      "train '" + file.string() +
      "' model.hidden_size=16 seed=2 train.max_steps=2 train.epochs=1 threads.compute=1 "
      "--runs-dir '" +
      (dir / "runs").string() + "'");
  ASSERT_EQ(pinned.exit_code, 0) << pinned.err;
  EXPECT_FALSE(contains(pinned.err, "declares a sweep")) << pinned.err;
}

}  // namespace
}  // namespace cadenza
