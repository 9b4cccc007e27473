// `cadenza reproduce`: the shipped reproductions all resolve and target a published number; a
// tiny test-only reproduction (tests/experiments/reproduce/) is killed mid-run, resumed, and
// judged against the published value with the documented exit codes; bad blocks exit 2.
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <numeric>

#include "sweeps/sweep_test_support.hpp"

namespace cadenza {
namespace {

namespace fs = std::filesystem;
using testing::BackgroundCadenza;
using testing::last_json_line;
using testing::run_cadenza;
using testing::ScratchDir;

bool contains(const std::string& text, const std::string& fragment) {
  return text.find(fragment) != std::string::npos;
}

using testing::quoted;

const fs::path kFixtures = testing::source_dir() / "tests" / "experiments" / "reproduce";
const fs::path kPublished = testing::source_dir() / "results" / "published";

TEST(Reproduce, ListShowsEveryShippedReproductionWithItsTarget) {
  // From the project root, with the default folders, as a user runs it.
  const auto result = testing::run_shell("cd " + quoted(testing::source_dir()) + " && '" +
                                         CADENZA_BINARY + "' reproduce --list");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"bai2018_lstm_jsb", "bai2018/lstm on JSB_Chorales"},
      {"bai2018_lstm_nottingham", "bai2018/lstm on Nottingham"},
      {"bai2018_gru_jsb", "bai2018/gru on JSB_Chorales"},
      {"bai2018_gru_nottingham", "bai2018/gru on Nottingham"},
      {"boulanger2012_rnn_jsb", "boulanger2012/rnn on JSB_Chorales"},
      {"boulanger2012_rnn_nottingham", "boulanger2012/rnn on Nottingham"},
      {"boulanger2012_rnn_musedata", "boulanger2012/rnn on MuseData"},
      {"boulanger2012_rnn_piano", "boulanger2012/rnn on Piano_midi"},
      {"chung2014_lstm_jsb", "chung2014/lstm on JSB_Chorales"},
      {"chung2014_lstm_nottingham", "chung2014/lstm on Nottingham"},
      {"chung2014_lstm_musedata", "chung2014/lstm on MuseData"},
      {"chung2014_lstm_piano", "chung2014/lstm on Piano_midi"},
      {"chung2014_gru_jsb", "chung2014/gru on JSB_Chorales"},
      {"chung2014_gru_nottingham", "chung2014/gru on Nottingham"},
      {"chung2014_gru_musedata", "chung2014/gru on MuseData"},
      {"chung2014_gru_piano", "chung2014/gru on Piano_midi"},
      {"chung2014_tanh_jsb", "chung2014/tanh on JSB_Chorales"},
      {"chung2014_tanh_nottingham", "chung2014/tanh on Nottingham"},
      {"chung2014_tanh_musedata", "chung2014/tanh on MuseData"},
      {"chung2014_tanh_piano", "chung2014/tanh on Piano_midi"},
      {"tuned_lstm_jsb", "zakovskis2021/lstm on JSB_Chorales"},
      {"tuned_lstm_nottingham", "zakovskis2021/lstm on Nottingham"},
      {"tuned_lstm_musedata", "zakovskis2021/lstm on MuseData"},
      {"tuned_lstm_piano", "zakovskis2021/lstm on Piano_midi"},
      {"searched_lstm_jsb", "zakovskis2021/lstm on JSB_Chorales"},
      {"searched_lstm_nottingham", "zakovskis2021/lstm on Nottingham"},
      {"searched_lstm_musedata", "zakovskis2021/lstm on MuseData"},
      {"searched_lstm_piano", "zakovskis2021/lstm on Piano_midi"},
      {"attention_ablation_jsb", "zakovskis2021/lstm on JSB_Chorales"},
      {"attention_ablation_nottingham", "zakovskis2021/lstm on Nottingham"},
      {"attention_ablation_musedata", "zakovskis2021/lstm on MuseData"},
      {"attention_ablation_piano", "zakovskis2021/lstm on Piano_midi"},
  };
  std::istringstream lines(result.out);
  std::map<std::string, std::string> rows;
  std::string line;
  while (std::getline(lines, line)) {
    const auto space = line.find(' ');
    if (space != std::string::npos) rows[line.substr(0, space)] = line;
  }
  for (const auto& [name, target] : expected) {
    ASSERT_TRUE(rows.contains(name)) << name << " missing from\n" << result.out;
    EXPECT_TRUE(contains(rows[name], target)) << rows[name];
    // 5 variants x 5 seeds for the ablations, 81 trials and 5 confirmation seeds for the
    // searches, 3 seeds otherwise.
    const char* runs = name.starts_with("attention")  ? " 25  "
                       : name.starts_with("searched") ? " 86  "
                                                      : " 3  ";
    EXPECT_TRUE(contains(rows[name], runs)) << rows[name];
  }
  EXPECT_TRUE(contains(rows["bai2018_lstm_jsb"], "8.45")) << rows["bai2018_lstm_jsb"];
  EXPECT_TRUE(contains(rows["chung2014_lstm_jsb"], "8.67 ")) << rows["chung2014_lstm_jsb"];
  EXPECT_FALSE(contains(rows["chung2014_lstm_jsb"], "(?)")) << "verified numbers carry no mark";
}

TEST(Reproduce, ListMarksAnUnverifiedPublishedNumber) {
  ScratchDir dir;
  auto published = nlohmann::json::parse(testing::slurp(kPublished / "bai2018.json"));
  for (auto& entry : published["entries"]) {
    if (entry["id"] == "bai2018/lstm" && entry["dataset"] == "JSB_Chorales") {
      entry["verified"] = false;
    }
  }
  fs::create_directories(dir / "published");
  for (const auto& entry : fs::directory_iterator(kPublished))
    fs::copy_file(entry.path(), dir / "published" / entry.path().filename());
  std::ofstream(dir / "published" / "bai2018.json") << published.dump(2);
  const auto result = run_cadenza("reproduce --list --experiments-dir " + quoted(kFixtures) +
                                  " --published-dir " + quoted(dir / "published"));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(contains(result.out, "8.45 (?)")) << result.out;
  EXPECT_TRUE(contains(result.out, "(?) = recalled, not verified")) << result.out;
}

TEST(Reproduce, ResumesAfterAKillThenJudgesAgainstThePublishedNumber) {
  ScratchDir dir;
  const std::string folders = " --experiments-dir " + quoted(kFixtures) + " --published-dir " +
                              quoted(kPublished) + " --sweeps-dir " + quoted(dir / "sweeps");
  const auto plan = plan_sweep(kFixtures / "tiny_bai2018_jsb.json");
  const fs::path folder = dir / "sweeps" / "tiny_bai2018_jsb";
  {
    BackgroundCadenza reproduce(
        {"reproduce", "tiny_bai2018_jsb", "--jobs", "2", "--experiments-dir", kFixtures.string(),
         "--published-dir", kPublished.string(), "--sweeps-dir", (dir / "sweeps").string()},
        dir.path(), "killed");
    ASSERT_TRUE(testing::wait_for_progress(plan, folder, testing::checkpoint_steps(plan, folder)))
        << reproduce.err();
    reproduce.kill_group();
    EXPECT_EQ(reproduce.wait(), 128 + SIGKILL) << "finished before the kill";
  }
  const auto missed = run_cadenza("reproduce tiny_bai2018_jsb --jobs 2" + folders);
  EXPECT_EQ(missed.exit_code, 6) << "ran fine but missed the number\n" << missed.err;
  bool resumed = false;
  std::vector<double> test_nll;
  for (const auto& run : plan.runs) {
    resumed |= contains(testing::slurp(folder / run.dir / "log.txt"), "resumed from");
    test_nll.push_back(testing::metrics_without_timings(folder / run.dir).back()["nll"]);
  }
  EXPECT_TRUE(resumed) << "no run continued from its checkpoint";
  const auto verdict = last_json_line(missed.out);
  EXPECT_EQ(verdict["published"]["id"], "bai2018/lstm");
  EXPECT_EQ(verdict["published"]["value"], 8.45);
  EXPECT_EQ(verdict["ours"]["n"], 2);
  EXPECT_EQ(verdict["ours"]["seeds"], nlohmann::json({1, 2}));
  const double mean = (test_nll[0] + test_nll[1]) / 2.0;
  EXPECT_DOUBLE_EQ(verdict["ours"]["mean"].get<double>(), mean);
  EXPECT_DOUBLE_EQ(verdict["difference"].get<double>(), mean - 8.45);
  EXPECT_NEAR(verdict["relative_pct"].get<double>(), 100.0 * (mean - 8.45) / 8.45, 1e-9);
  EXPECT_EQ(verdict["tolerance_pct"], 2.0);
  EXPECT_FALSE(verdict["within"]);
  EXPECT_EQ(nlohmann::json::parse(testing::slurp(folder / "verdict.json")), verdict)
      << "the sweep folder keeps the printed verdict";
  for (const char* fragment :
       {"published   8.4500  bai2018/lstm [verified]", "mean ± std over n = 2 seeds",
        "MISSED: worse than the published number by", "tolerance ±2.00%"}) {
    EXPECT_TRUE(contains(missed.out, fragment)) << fragment << "\n" << missed.out;
  }

  // Everything is done now: a wider tolerance only changes the verdict, nothing is retrained.
  const auto within = run_cadenza("reproduce tiny_bai2018_jsb --tolerance 50" + folders);
  EXPECT_EQ(within.exit_code, 0) << within.err;
  EXPECT_TRUE(contains(within.out, "REPRODUCED: within ±50.00%")) << within.out;
  EXPECT_FALSE(contains(within.err, "] start ")) << within.err;
  EXPECT_EQ(last_json_line(within.out)["ours"]["mean"], verdict["ours"]["mean"]);
  EXPECT_EQ(nlohmann::json::parse(testing::slurp(folder / "verdict.json")),
            last_json_line(within.out))
      << "the kept verdict is the latest one";

  const auto unknown = run_cadenza("reproduce tiny_bai2018" + folders);
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_TRUE(contains(unknown.err,
                       "unknown reproduction 'tiny_bai2018' (did you mean "
                       "'tiny_bai2018_jsb'?)"))
      << unknown.err;
}

// Slurm preempts with SIGTERM: reproduce must stop its workers at a checkpoint, as sweep does,
// not die and leave them "running".
TEST(Reproduce, SigtermCheckpointsTheWorkersAndTheRerunResumes) {
  ScratchDir dir;
  const auto plan = plan_sweep(kFixtures / "tiny_bai2018_jsb.json");
  const fs::path folder = dir / "sweeps" / "tiny_bai2018_jsb";
  BackgroundCadenza reproduce(
      {"reproduce", "tiny_bai2018_jsb", "--jobs", "2", "--experiments-dir", kFixtures.string(),
       "--published-dir", kPublished.string(), "--sweeps-dir", (dir / "sweeps").string()},
      dir.path(), "terminated");
  ASSERT_TRUE(testing::wait_for_progress(plan, folder, testing::checkpoint_steps(plan, folder)))
      << reproduce.err();
  ::kill(reproduce.pid(), SIGTERM);
  EXPECT_EQ(reproduce.wait(), 128 + SIGTERM) << "finished before the signal?\n" << reproduce.err();
  EXPECT_TRUE(contains(reproduce.err(), "SIGTERM received: stopping")) << reproduce.err();
  for (const auto& run : plan.runs) {
    const auto record =
        nlohmann::json::parse(testing::slurp(folder / "state" / (run.run_id() + ".json")));
    EXPECT_NE(record["state"], "running") << run.run_id() << ": the sweep saw its worker end";
  }
  const auto rerun = run_cadenza("reproduce tiny_bai2018_jsb --tolerance 50 --experiments-dir " +
                                 quoted(kFixtures) + " --published-dir " + quoted(kPublished) +
                                 " --sweeps-dir " + quoted(dir / "sweeps"));
  EXPECT_EQ(rerun.exit_code, 0) << rerun.err;
}

// A reproduction by search: the trials choose on valid data, and the verdict is the test nll of the
// confirmation runs (fresh seeds), never of the trial that won.
TEST(Reproduce, BySearchJudgesTheConfirmationRunsOfTheBestTrial) {
  ScratchDir dir;
  const std::string folders = " --experiments-dir " + quoted(kFixtures) + " --published-dir " +
                              quoted(kPublished) + " --sweeps-dir " + quoted(dir / "sweeps");
  const auto listed = run_cadenza("reproduce --list" + folders);
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_TRUE(contains(listed.out, "tiny_searched_jsb     5  zakovskis2021/lstm on JSB_Chorales"))
      << "3 trials and 2 confirmation runs\n"
      << listed.out;

  const auto result = run_cadenza("reproduce tiny_searched_jsb --jobs 2 --tolerance 50" + folders);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const fs::path folder = dir / "sweeps" / "tiny_searched_jsb";
  for (const char* file : {"search.json", "decisions.json", "report.md", "confirm/sweep.json"})
    EXPECT_TRUE(fs::exists(folder / file)) << file;
  const auto decisions = nlohmann::json::parse(testing::slurp(folder / "decisions.json"));
  EXPECT_TRUE(decisions["variants"][0]["complete"]) << decisions.dump();
  EXPECT_TRUE(decisions["variants"][0]["best_trial"].is_number()) << decisions.dump();
  std::vector<double> confirmed_nll;
  std::vector<int64_t> confirmed_seeds;
  for (const auto& entry : fs::recursive_directory_iterator(folder / "confirm" / "runs")) {
    if (entry.path().filename() != "config.json") continue;
    const auto config = nlohmann::json::parse(testing::slurp(entry.path()));
    confirmed_seeds.push_back(config["seed"].get<int64_t>());
    confirmed_nll.push_back(
        testing::metrics_without_timings(entry.path().parent_path()).back()["nll"]);
  }
  ASSERT_EQ(confirmed_nll.size(), 2u);
  std::sort(confirmed_seeds.begin(), confirmed_seeds.end());
  EXPECT_EQ(confirmed_seeds, (std::vector<int64_t>{2, 3})) << "fresh seeds, not the trials' 1";
  const auto verdict = last_json_line(result.out);
  EXPECT_EQ(verdict["published"]["id"], "zakovskis2021/lstm");
  EXPECT_EQ(verdict["ours"]["n"], 2);
  EXPECT_EQ(verdict["ours"]["seeds"], nlohmann::json({2, 3}));
  EXPECT_DOUBLE_EQ(verdict["ours"]["mean"].get<double>(),
                   (confirmed_nll[0] + confirmed_nll[1]) / 2.0);
  EXPECT_TRUE(verdict["within"]);
  EXPECT_EQ(nlohmann::json::parse(testing::slurp(folder / "verdict.json")), verdict)
      << "the search folder keeps the printed verdict";

  // Done: a rerun retrains nothing and judges the same runs.
  const auto again = run_cadenza("reproduce tiny_searched_jsb" + folders);
  EXPECT_EQ(again.exit_code, 6) << "outside the default ±2%\n" << again.err;
  EXPECT_FALSE(contains(again.err, "] start ")) << again.err;
  EXPECT_EQ(last_json_line(again.out)["ours"]["mean"], verdict["ours"]["mean"]);
}

TEST(Reproduce, BySearchWithoutConfirmationExitsTwoBeforeTraining) {
  ScratchDir dir;
  auto experiment = nlohmann::json::parse(testing::slurp(kFixtures / "tiny_searched_jsb.json"));
  experiment["extends"] = (testing::source_dir() / "experiments" / "smoke.json").string();
  experiment["search"].erase("confirm");
  fs::create_directories(dir / "experiments");
  std::ofstream(dir / "experiments" / "unconfirmed.json") << experiment.dump(2);
  const auto result = run_cadenza("reproduce unconfirmed --experiments-dir " +
                                  quoted(dir / "experiments") + " --published-dir " +
                                  quoted(kPublished) + " --sweeps-dir " + quoted(dir / "sweeps"));
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_TRUE(contains(result.err, "a reproduction by search needs search.confirm")) << result.err;
  EXPECT_FALSE(fs::exists(dir / "sweeps")) << "nothing may be trained or written";
}

TEST(Reproduce, InvalidReproducesBlocksExitTwoBeforeTraining) {
  ScratchDir dir;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"("reproduces": {"published": "bai2018/lstm", "dataset": "JSB_Chorales", "tolerance": 5})",
       "unknown member 'tolerance' (did you mean 'tolerance_pct'?)"},
      {R"("reproduces": {"published": "bai2018/lsmt", "dataset": "JSB_Chorales"})",
       "unknown published model id 'bai2018/lsmt'; valid ids: bai2018/lstm"},
      {R"("reproduces": {"published": "bai2018/lstm", "dataset": "MuseData"})",
       "has no number on 'MuseData'"},
      {R"("reproduces": {"published": "bai2018/lstm", "dataset": "Nottingham"})",
       "reproduces.dataset is 'Nottingham' but run"},
      {R"("reproduces": {"published": "bai2018/lstm", "dataset": "JSB_Chorales",
                         "variant": {"model.layers": 2}})",
       "reproduces.variant names 'model.layers', which the sweep does not vary"},
      {R"("reproduces": {"published": "bai2018/lstm", "dataset": "JSB_Chorales",
                         "tolerance_pct": -1})",
       "tolerance_pct must be a number > 0"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto experiments = dir / ("case" + std::to_string(i));
    std::filesystem::create_directories(experiments);
    std::ofstream(experiments / "bad.json")
        << R"({"extends": ")" << (testing::source_dir() / "experiments" / "smoke.json").string()
        << R"(", "name": "bad", "sweep": {"grid": {"seed": [1, 2]}}, )" << cases[i].first << "}";
    const auto result =
        run_cadenza("reproduce bad --experiments-dir " + quoted(experiments) + " --published-dir " +
                    quoted(kPublished) + " --sweeps-dir " + quoted(dir / "sweeps"));
    EXPECT_EQ(result.exit_code, 2) << cases[i].first << "\n" << result.err;
    EXPECT_TRUE(contains(result.err, cases[i].second)) << result.err;
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "sweeps")) << "nothing may be trained or written";
}

}  // namespace
}  // namespace cadenza
