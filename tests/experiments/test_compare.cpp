// compare: collecting run directories (plain, sweeps, folders of runs), deriving variants from
// configs, summaries and paired tests with hand-computed values, baseline selection and its
// errors, runs left out with their reasons, music distances, parameter counts from checkpoints.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.hpp"
#include "experiments/compare.hpp"
#include "experiments/compare_test_util.hpp"
#include "experiments/run_collection.hpp"
#include "support/process.hpp"
#include "train/checkpoint_format.hpp"

namespace cadenza {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::FakeRun;
using testing::ScratchDir;
using testing::write_fake_run;

const json kLm = {{"type", "lm"}, {"attention", "none"}};
const json kSeq2seq = {{"type", "seq2seq"}, {"attention", "none"}};
const json kAttention = {{"type", "seq2seq"}, {"attention", "general"}};
const std::string kLmLabel = "model.attention=none, model.type=lm";
const std::string kSeq2seqLabel = "model.attention=none, model.type=seq2seq";
const std::string kAttentionLabel = "model.attention=general, model.type=seq2seq";

FakeRun fake(const std::string& name, const json& model, int64_t seed, double nll, double acc) {
  FakeRun run;
  run.dir_name = name;
  run.model = model;
  run.seed = seed;
  run.test_nll = nll;
  run.test_acc = acc;
  return run;
}

// Three variants x three seeds on JSB Chorales, with known test numbers:
//   lm         nll 8.50 8.60 8.55   acc 0.20 0.22 0.21
//   seq2seq    nll 8.90 8.95 9.00   (differences to lm 0.40 0.35 0.45: significant)
//   attention  nll 8.40 8.70 8.52   (differences -0.10 0.10 -0.03: not significant)
std::vector<fs::path> write_standard_sweep(const fs::path& root) {
  std::vector<FakeRun> runs = {
      fake("lm-1", kLm, 1, 8.50, 0.20),         fake("lm-2", kLm, 2, 8.60, 0.22),
      fake("lm-3", kLm, 3, 8.55, 0.21),         fake("s2s-1", kSeq2seq, 1, 8.90, 0.18),
      fake("s2s-2", kSeq2seq, 2, 8.95, 0.17),   fake("s2s-3", kSeq2seq, 3, 9.00, 0.19),
      fake("att-1", kAttention, 1, 8.40, 0.23), fake("att-2", kAttention, 2, 8.70, 0.20),
      fake("att-3", kAttention, 3, 8.52, 0.21)};
  runs[0].valid_nll = {9.0, 8.8, 8.7};
  runs[1].valid_nll = {9.2, 8.9};
  runs[1].best_epoch = 2;
  runs[2].valid_nll = {9.1, 8.6, 8.65, 8.7};
  std::vector<fs::path> dirs;
  for (const FakeRun& run : runs)
    dirs.push_back(write_fake_run(root, run));
  return dirs;
}

const VariantResult& result(const Comparison& c, std::size_t variant, const std::string& dataset) {
  return c.results.at({variant, dataset});
}

const PairedDifference& difference(const Comparison& c, std::size_t variant,
                                   const std::string& dataset, const std::string& metric) {
  for (const PairedDifference& d : c.differences) {
    if (d.variant == variant && d.dataset == dataset && d.metric == metric) return d;
  }
  throw std::runtime_error("no such difference");
}

TEST(Compare, VariantsComeFromTheConfigKeysThatDiffer) {
  ScratchDir dir;
  const auto runs = collect_runs(write_standard_sweep(dir.path()));
  ASSERT_EQ(runs.size(), 9u);
  const Comparison c = compare_runs(runs, {});
  // seed, data.dataset, data.root, description and threads.* differ too, but never make variants.
  EXPECT_EQ(c.varying_keys, (std::vector<std::string>{"model.attention", "model.type"}));
  ASSERT_EQ(c.variants.size(), 3u);
  EXPECT_EQ(c.variants[0].label, kLmLabel);
  EXPECT_EQ(c.variants[1].label, kSeq2seqLabel);
  EXPECT_EQ(c.variants[2].label, kAttentionLabel);
  EXPECT_EQ(c.baseline, 0u);
  EXPECT_NE(c.baseline_rule.find("first variant"), std::string::npos);
  EXPECT_EQ(c.datasets, std::vector<std::string>{"JSB_Chorales"});
  EXPECT_EQ(c.metrics, (std::vector<std::string>{"nll", "acc"}));
  EXPECT_EQ(c.runs_used, 9u);
  EXPECT_TRUE(c.excluded.empty());
}

TEST(Compare, CellsHoldMeanStdTIntervalAndN) {
  ScratchDir dir;
  const Comparison c = compare_runs(collect_runs(write_standard_sweep(dir.path())), {});
  const VariantResult& lm = result(c, 0, "JSB_Chorales");
  const stats::Summary& nll = lm.metrics.at("nll");
  EXPECT_EQ(nll.n, 3u);
  EXPECT_NEAR(nll.mean, 8.55, 1e-12);
  EXPECT_NEAR(nll.std, 0.05, 1e-12);
  const double half = 4.302652729911275 * 0.05 / std::sqrt(3.0);  // t_{0.975,2} sd / sqrt(n)
  EXPECT_NEAR(nll.ci.low, 8.55 - half, 1e-10);
  EXPECT_NEAR(nll.ci.high, 8.55 + half, 1e-10);
  EXPECT_NEAR(lm.metrics.at("acc").mean, 0.21, 1e-12);
  EXPECT_NEAR(lm.metrics.at("acc").std, 0.01, 1e-12);
  EXPECT_NEAR(lm.best_epoch.mean, 8.0 / 3.0, 1e-12);
  // Train time: per epoch 1.0 s training + 0.25 s validation.
  EXPECT_NEAR(result(c, 1, "JSB_Chorales").train_seconds.mean, 3 * 1.25, 1e-12);
  EXPECT_NEAR(lm.train_seconds.mean, (3 + 2 + 4) * 1.25 / 3, 1e-12);
  EXPECT_FALSE(lm.parameters_min.has_value());  // no checkpoints in fake runs
  // Learning curve: epochs 1..4, the mean and the min-max over the seeds that reached them.
  ASSERT_EQ(lm.curve.size(), 4u);
  EXPECT_EQ(lm.curve[0].n, 3u);
  EXPECT_NEAR(lm.curve[0].mean, (9.0 + 9.2 + 9.1) / 3, 1e-12);
  EXPECT_DOUBLE_EQ(lm.curve[0].min, 9.0);
  EXPECT_DOUBLE_EQ(lm.curve[0].max, 9.2);
  EXPECT_EQ(lm.curve[2].n, 2u);
  EXPECT_NEAR(lm.curve[2].mean, (8.7 + 8.65) / 2, 1e-12);
  EXPECT_EQ(lm.curve[3].n, 1u);
  EXPECT_DOUBLE_EQ(lm.curve[3].mean, 8.7);
}

TEST(Compare, PairedDifferencesToTheBaselineAndSignificance) {
  ScratchDir dir;
  const Comparison c = compare_runs(collect_runs(write_standard_sweep(dir.path())), {});
  ASSERT_EQ(c.differences.size(), 4u);  // 2 variants x 1 dataset x 2 metrics
  const PairedDifference& seq2seq = difference(c, 1, "JSB_Chorales", "nll");
  EXPECT_EQ(seq2seq.seeds, (std::vector<int64_t>{1, 2, 3}));
  EXPECT_NEAR(seq2seq.test.mean_difference, 0.40, 1e-12);
  EXPECT_NEAR(seq2seq.test.t, 13.856406460551058, 1e-8);            // 0.4 / (0.05 / sqrt 3)
  EXPECT_NEAR(seq2seq.test.p_value, 0.0051679932523860563, 1e-12);  // mpmath
  // Three pairs: each resample mean is >= 0.35 and <= 0.45, both extremes have mass 1/27 > 2.5%.
  EXPECT_NEAR(seq2seq.bootstrap.low, 0.35, 1e-12);
  EXPECT_NEAR(seq2seq.bootstrap.high, 0.45, 1e-12);
  EXPECT_TRUE(seq2seq.significant);

  const PairedDifference& attention = difference(c, 2, "JSB_Chorales", "nll");
  EXPECT_NEAR(attention.test.mean_difference, -0.01, 1e-12);
  EXPECT_NEAR(attention.test.p_value, 0.88019154042536476, 1e-12);
  EXPECT_TRUE(attention.bootstrap.contains(0.0));
  EXPECT_FALSE(attention.significant);

  const PairedDifference& acc = difference(c, 1, "JSB_Chorales", "acc");
  EXPECT_NEAR(acc.test.mean_difference, -0.03, 1e-12);
  EXPECT_FALSE(lower_is_better("acc"));
  EXPECT_TRUE(lower_is_better("nll"));
  EXPECT_TRUE(lower_is_better("music.pitch_class_kl"));
}

TEST(Compare, PairsOnlyMatchingSeedsAndNeedsTwoForATest) {
  ScratchDir dir;
  std::vector<fs::path> dirs = {write_fake_run(dir.path(), fake("lm-1", kLm, 1, 8.5, 0.2)),
                                write_fake_run(dir.path(), fake("lm-2", kLm, 2, 8.6, 0.2)),
                                write_fake_run(dir.path(), fake("s2s-2", kSeq2seq, 2, 9.0, 0.2)),
                                write_fake_run(dir.path(), fake("s2s-7", kSeq2seq, 7, 9.1, 0.2))};
  const Comparison c = compare_runs(collect_runs(dirs), {});
  const PairedDifference& d = difference(c, 1, "JSB_Chorales", "nll");
  EXPECT_EQ(d.seeds, std::vector<int64_t>{2});
  EXPECT_NEAR(d.test.mean_difference, 0.4, 1e-12);
  EXPECT_TRUE(std::isnan(d.test.p_value));
  EXPECT_TRUE(std::isnan(d.bootstrap.low));
  EXPECT_FALSE(d.significant);
}

TEST(Compare, BaselineIsChosenByKeyValue) {
  ScratchDir dir;
  const auto runs = collect_runs(write_standard_sweep(dir.path()));
  CompareOptions options;
  options.baseline = {"model.attention=general"};
  Comparison c = compare_runs(runs, options);
  EXPECT_EQ(c.baseline, 2u);
  EXPECT_EQ(c.baseline_rule, "--baseline model.attention=general");
  EXPECT_NEAR(difference(c, 0, "JSB_Chorales", "nll").test.mean_difference, 0.01, 1e-12);

  options.baseline = {"model.type=seq2seq", "model.attention=none"};
  c = compare_runs(runs, options);
  EXPECT_EQ(c.baseline, 1u);
  EXPECT_NEAR(difference(c, 0, "JSB_Chorales", "nll").test.mean_difference, -0.40, 1e-12);
}

// Runs compare_runs with --baseline `requests` and returns the UsageError's message.
std::string baseline_error(const std::vector<RunRecord>& runs,
                           const std::vector<std::string>& requests) {
  CompareOptions options;
  options.baseline = requests;
  try {
    compare_runs(runs, options);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "no error";
}

TEST(Compare, BadBaselineNamesTheValidKeysValuesAndVariants) {
  ScratchDir dir;
  const auto runs = collect_runs(write_standard_sweep(dir.path()));
  std::string message = baseline_error(runs, {"model.layers=2"});
  EXPECT_NE(message.find("'model.layers' is not a config key that differs"), std::string::npos)
      << message;
  EXPECT_NE(message.find("valid keys: model.attention, model.type"), std::string::npos) << message;

  message = baseline_error(runs, {"model.type=transformer"});
  EXPECT_NE(message.find("valid values of model.type: lm, seq2seq"), std::string::npos) << message;

  message = baseline_error(runs, {"model.type=seq2seq"});
  EXPECT_NE(message.find("matches 2 variants"), std::string::npos) << message;
  EXPECT_NE(message.find(kSeq2seqLabel), std::string::npos) << message;
  EXPECT_NE(message.find(kAttentionLabel), std::string::npos) << message;

  message = baseline_error(runs, {"model.type"});
  EXPECT_NE(message.find("expected KEY=VALUE"), std::string::npos) << message;

  // One variant: nothing to choose.
  ScratchDir single;
  const auto one = collect_runs({write_fake_run(single.path(), fake("a", kLm, 1, 8.5, 0.2)),
                                 write_fake_run(single.path(), fake("b", kLm, 2, 8.6, 0.2))});
  message = baseline_error(one, {"model.type=lm"});
  EXPECT_NE(message.find("one variant"), std::string::npos) << message;
  EXPECT_EQ(compare_runs(one, {}).variants.at(0).label, "all runs");
}

TEST(Compare, MetricsMustHaveBeenLogged) {
  ScratchDir dir;
  const auto runs = collect_runs(write_standard_sweep(dir.path()));
  CompareOptions options;
  options.metrics = {"f1", "nll", "f1"};
  EXPECT_EQ(compare_runs(runs, options).metrics, (std::vector<std::string>{"f1", "nll"}));
  options.metrics = {"bleu"};
  try {
    compare_runs(runs, options);
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("available: acc, f1, nll"), std::string::npos) << e.what();
  }
}

TEST(Compare, IncompleteFailedMissingAndRepeatedRunsAreListedNotDropped) {
  ScratchDir dir;
  std::vector<std::string> listed = {"runs/lm-1",  "runs/lm-2", "runs/s2s-1", "runs/s2s-2",
                                     "runs/s2s-3", "runs/lm-4", "runs/lm-5",  "runs/not-started"};
  const fs::path runs_root = dir / "runs";
  write_fake_run(runs_root, fake("lm-1", kLm, 1, 8.5, 0.2));
  write_fake_run(runs_root, fake("lm-2", kLm, 2, 8.6, 0.2));
  write_fake_run(runs_root, fake("s2s-1", kSeq2seq, 1, 9.0, 0.2));
  FakeRun running = fake("s2s-2", kSeq2seq, 2, 9.0, 0.2);
  running.status = "running";
  running.test_row = false;
  write_fake_run(runs_root, running);
  FakeRun failed = fake("s2s-3", kSeq2seq, 3, 9.0, 0.2);
  failed.status = "failed";
  failed.test_row = false;
  const fs::path failed_dir = write_fake_run(runs_root, failed);
  testing::write_json(failed_dir / "manifest.json",
                      {{"status", "failed"}, {"status_detail", "numerical error at step 40"}});
  FakeRun no_test = fake("lm-4", kLm, 4, 8.5, 0.2);
  no_test.test_row = false;
  write_fake_run(runs_root, no_test);
  FakeRun repeated = fake("lm-5", kLm, 1, 7.0, 0.2);  // seed 1 again
  write_fake_run(runs_root, repeated);
  testing::write_sweep_json(dir.path(), listed);

  const auto runs = collect_runs({dir.path()});
  ASSERT_EQ(runs.size(), 8u);
  EXPECT_EQ(runs.back().status, "missing");
  const Comparison c = compare_runs(runs, {});
  EXPECT_EQ(c.runs_used, 3u);
  ASSERT_EQ(c.excluded.size(), 5u);
  std::map<std::string, std::string> reasons;
  for (const ExcludedRun& excluded : c.excluded)
    reasons[excluded.run.dir.filename().string()] = excluded.reason;
  EXPECT_EQ(reasons["s2s-2"], "status 'running'");
  EXPECT_EQ(reasons["s2s-3"], "status 'failed': numerical error at step 40");
  EXPECT_EQ(reasons["lm-4"], "completed, but metrics.jsonl has no test row");
  EXPECT_NE(reasons["lm-5"].find("repeats variant, dataset and seed 1 of"), std::string::npos);
  EXPECT_NE(reasons["not-started"].find("listed in sweep.json; the directory does not exist"),
            std::string::npos);
  // The repeated seed did not replace the first one.
  EXPECT_DOUBLE_EQ(result(c, 0, "JSB_Chorales").metrics.at("nll").mean, 8.55);
  EXPECT_EQ(result(c, 1, "JSB_Chorales").metrics.at("nll").n, 1u);
}

TEST(Compare, DatasetsAreColumnsAndPairingIsPerDataset) {
  ScratchDir dir;
  std::vector<fs::path> dirs = write_standard_sweep(dir.path());
  for (int seed = 1; seed <= 2; ++seed) {
    FakeRun lm = fake("nott-lm-" + std::to_string(seed), kLm, seed, 3.3 + 0.1 * seed, 0.6);
    lm.dataset = "Nottingham";
    FakeRun s2s = fake("nott-s2s-" + std::to_string(seed), kSeq2seq, seed, 3.6 + 0.1 * seed, 0.5);
    s2s.dataset = "Nottingham";
    dirs.push_back(write_fake_run(dir.path(), lm));
    dirs.push_back(write_fake_run(dir.path(), s2s));
  }
  const Comparison c = compare_runs(collect_runs(dirs), {});
  EXPECT_EQ(c.datasets, (std::vector<std::string>{"JSB_Chorales", "Nottingham"}));
  EXPECT_EQ(c.varying_keys.size(), 2u);  // the dataset is a column, not a variant key
  EXPECT_NEAR(result(c, 0, "Nottingham").metrics.at("nll").mean, 3.45, 1e-12);
  EXPECT_NEAR(difference(c, 1, "Nottingham", "nll").test.mean_difference, 0.3, 1e-12);
  EXPECT_EQ(c.results.count({2, "Nottingham"}), 0u);  // attention never ran on Nottingham
  EXPECT_EQ(c.differences.size(), 6u);                // seq2seq x 2 datasets + attention x 1, x 2
}

TEST(Compare, MusicDistancesOfGeneratedPiecesBecomeMetrics) {
  ScratchDir dir;
  const std::vector<fs::path> dirs = write_standard_sweep(dir.path());
  // Two generation seeds for lm-1 (averaged), one for each other lm and seq2seq run.
  const auto write_stats = [](const fs::path& run, const std::string& folder, double kl) {
    testing::write_json(
        run / "generated" / folder / "stats.json",
        {{"reference", {{"dataset", "JSB_Chorales"}, {"split", "test"}}},
         {"generated",
          {{"stats", json::object()},
           {"distances",
            {{"pitch_class_kl", kl}, {"polyphony_kl", 2 * kl}, {"note_length_kl", 3 * kl}}}}},
         {"samples", json::array()}});
  };
  write_stats(dirs[0], "seed-1", 0.10);
  write_stats(dirs[0], "seed-2", 0.20);
  write_stats(dirs[1], "seed-1", 0.30);
  write_stats(dirs[2], "seed-1", 0.35);
  write_stats(dirs[3], "seed-1", 0.50);
  write_stats(dirs[4], "seed-1", 0.55);
  write_stats(dirs[5], "seed-1", 0.60);
  const auto runs = collect_runs(dirs);
  EXPECT_NEAR(runs[0].music_distances.at("pitch_class_kl"), 0.15, 1e-12);
  const Comparison c = compare_runs(runs, {});
  EXPECT_EQ(c.metrics, (std::vector<std::string>{"nll", "acc", "music.note_length_kl",
                                                 "music.pitch_class_kl", "music.polyphony_kl"}));
  const stats::Summary& lm = result(c, 0, "JSB_Chorales").metrics.at("music.pitch_class_kl");
  EXPECT_EQ(lm.n, 3u);
  EXPECT_NEAR(lm.mean, (0.15 + 0.30 + 0.35) / 3, 1e-12);
  EXPECT_EQ(result(c, 2, "JSB_Chorales").metrics.at("music.pitch_class_kl").n, 0u);
  EXPECT_NEAR(difference(c, 1, "JSB_Chorales", "music.polyphony_kl").test.mean_difference,
              2 * (0.55 - 0.80 / 3), 1e-12);

  testing::write_json(dirs[6] / "generated" / "seed-1" / "stats.json", {{"generated", 1}});
  EXPECT_THROW(collect_runs(dirs), InputError);
}

TEST(Compare, CollectsFoldersOfRunsAndSweepsOnceEach) {
  ScratchDir dir;
  write_fake_run(dir / "results" / "quickstart", fake("b", kLm, 2, 8.6, 0.2));
  write_fake_run(dir / "results" / "quickstart", fake("a", kLm, 1, 8.5, 0.2));
  write_fake_run(dir / "results" / "deep" / "x" / "y", fake("too-deep", kLm, 3, 8.5, 0.2));
  auto runs = collect_runs({dir / "results"});
  ASSERT_EQ(runs.size(), 2u);  // three levels down at most; path order
  EXPECT_EQ(runs[0].run_id, "a");
  EXPECT_EQ(runs[1].seed, 2);
  EXPECT_EQ(runs[1].dataset, "JSB_Chorales");
  // The same run named twice (directly and through its folder) counts once.
  runs = collect_runs({dir / "results" / "quickstart" / "a", dir / "results" / "quickstart"});
  EXPECT_EQ(runs.size(), 2u);
}

TEST(Compare, BadPathsAndFilesAreClearErrors) {
  ScratchDir dir;
  EXPECT_THROW(collect_runs({dir / "nowhere"}), UsageError);
  std::ofstream(dir / "file.txt") << "x";
  EXPECT_THROW(collect_runs({dir / "file.txt"}), UsageError);
  fs::create_directories(dir / "empty");
  try {
    collect_runs({dir / "empty"});
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("not a run directory (no config.json), not a sweep"),
              std::string::npos);
  }
  const fs::path run = write_fake_run(dir / "runs", fake("r", kLm, 1, 8.5, 0.2));
  std::ofstream(run / "config.json") << "{\"seed\": ";
  try {
    collect_runs({run});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("config.json: key 'seed': invalid JSON"),
              std::string::npos)
        << e.what();
  }
  testing::write_json(run / "config.json", {{"seed", "one"}, {"data", {{"dataset", "x"}}}});
  EXPECT_THROW(collect_runs({run}), InputError);
  write_fake_run(dir / "runs", fake("r", kLm, 1, 8.5, 0.2));
  std::ofstream(run / "metrics.jsonl", std::ios::app) << "{broken\n";
  try {
    collect_runs({run});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("metrics.jsonl line 8: invalid JSON"), std::string::npos)
        << e.what();
  }
  testing::write_json(dir / "sweep" / "sweep.json", {{"format", "cadenza-sweep"}, {"version", 2}});
  EXPECT_THROW(collect_runs({dir / "sweep"}), InputError);
}

TEST(Compare, ParameterCountComesFromTheCheckpointShapes) {
  ScratchDir dir;
  const fs::path run = write_fake_run(dir.path(), fake("r", kLm, 1, 8.5, 0.2));
  CheckpointContents contents;
  contents.config_json = "{}";
  contents.run_id = "r";
  contents.params["decoder/lstm/layer0/W_ih"] = Tensor({16, 5});
  contents.params["decoder/lstm/layer0/W_hh"] = Tensor({16, 4});
  contents.params["decoder/lstm/layer0/b"] = Tensor({16});
  contents.params["decoder/output/W"] = Tensor({5, 4});
  contents.optimizer.name = "sgd";
  contents.optimizer.slots["decoder/output/W"]["momentum_buffer"] = Tensor({5, 4});  // not counted
  fs::create_directories(run / "checkpoints");
  save_checkpoint(run / "checkpoints" / "best.h5", contents);
  EXPECT_EQ(checkpoint_parameter_count(run / "checkpoints" / "best.h5"), 80 + 64 + 16 + 20);
  const RunRecord record = read_run(run);
  ASSERT_TRUE(record.parameters.has_value());
  EXPECT_EQ(*record.parameters, 180);
  const Comparison c = compare_runs({record}, {});
  EXPECT_EQ(c.results.at({0, "JSB_Chorales"}).parameters_min, 180);

  std::ofstream(run / "checkpoints" / "best.h5") << "not hdf5";
  EXPECT_THROW(read_run(run), InputError);
}

}  // namespace
}  // namespace cadenza
