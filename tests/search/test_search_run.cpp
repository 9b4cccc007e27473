// Searches through the real binary on real JSB data: the tiny search of experiments/
// smoke_search.json (the smoke lm, 9 trials, eta 3, rungs of 1, 3 and 9 epochs) run to its end
// within CI's two minutes, its winner equal to an uninterrupted run of its config, its status, its
// report, a rerun that trains nothing; and the same trial table after SIGKILLs (at chosen and at
// random moments) and restarts, with --jobs 1 and --jobs 2, and with two processes sharing one
// folder (each trial trained once).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <numeric>
#include <random>
#include <thread>

#include "experiments/compare_test_util.hpp"
#include "search/search_plan.hpp"
#include "sweeps/sweep_test_support.hpp"

namespace cadenza {
namespace {

namespace fs = std::filesystem;
using testing::BackgroundCadenza;
using testing::count_occurrences;
using testing::last_json_line;
using testing::metrics_without_timings;
using testing::read_json;
using testing::run_cadenza;
using testing::ScratchDir;

const fs::path& smoke_search() {
  static const fs::path path = testing::source_dir() / "experiments" / "smoke_search.json";
  return path;
}

std::vector<std::string> search_arguments(const fs::path& searches, int jobs) {
  return {"search", smoke_search().string(), "--searches-dir", searches.string(),
          "--jobs", std::to_string(jobs)};
}

testing::CommandResult run_search(const fs::path& searches, int jobs) {
  return run_cadenza("search '" + smoke_search().string() + "' --searches-dir '" +
                     searches.string() + "' --jobs " + std::to_string(jobs));
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

bool contains(const std::string& text, const std::string& fragment) {
  return text.find(fragment) != std::string::npos;
}

// The worker attempts the search recorded for each trial's run (state/<run id>.json).
std::vector<int> attempts_per_trial(const SearchPlan& plan, const fs::path& folder) {
  std::vector<int> attempts;
  for (const auto& trial : plan.trials) {
    const auto record = folder / "state" / (plan.run_of(trial).run_id() + ".json");
    attempts.push_back(fs::exists(record) ? read_json(record).value("attempts", 0) : 0);
  }
  return attempts;
}

// The uninterrupted search with --jobs 1, computed once for the tests that compare with it.
class SearchRun : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    reference_dir_ = new ScratchDir();
    const auto result = run_search(*reference_dir_ / "searches", 1);
    ASSERT_EQ(result.exit_code, 0) << result.err;
    reference_ = read_json(*reference_dir_ / "searches" / "smoke_search" / "decisions.json");
  }
  static void TearDownTestSuite() {
    delete reference_dir_;
    reference_dir_ = nullptr;
  }
  static inline ScratchDir* reference_dir_ = nullptr;
  static inline nlohmann::json reference_;
};

TEST_F(SearchRun, TheTinySearchPrunesByRungsAndItsWinnerEqualsAnUninterruptedRun) {
  ScratchDir dir;
  const auto start = std::chrono::steady_clock::now();
  const auto result = run_search(dir / "searches", 2);
  const double seconds = seconds_since(start);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  std::printf("[ measured ] tiny search (9 trials, rungs 1/3/9, --jobs 2): %.1f s\n", seconds);
  EXPECT_LT(seconds, 120.0) << "the tiny search must fit in CI's two minutes";
  const fs::path folder = dir / "searches" / "smoke_search";
  const auto summary = last_json_line(result.out);
  EXPECT_EQ(summary["attempts"], 9 + 3 + 1);
  const auto decisions = read_json(folder / "decisions.json");
  EXPECT_EQ(decisions, reference_) << "--jobs 2 and --jobs 1 gave different tables";
  ASSERT_EQ(decisions["variants"].size(), 1u);
  const auto& variant = decisions["variants"][0];
  EXPECT_EQ(variant["complete"], true);
  EXPECT_EQ(variant["epochs_spent"], 9 * 1 + 3 * 2 + 1 * 6);
  ASSERT_EQ(variant["rungs"].size(), 3u);
  EXPECT_EQ(variant["rungs"][0]["epoch"], 1);
  EXPECT_EQ(variant["rungs"][0]["entrants"].size(), 9u);
  EXPECT_EQ(variant["rungs"][0]["promoted"].size(), 3u);
  EXPECT_EQ(variant["rungs"][1]["epoch"], 3);
  EXPECT_EQ(variant["rungs"][1]["promoted"].size(), 1u);
  EXPECT_EQ(variant["rungs"][2]["epoch"], 9);
  EXPECT_EQ(variant["rungs"][2]["entrants"], variant["rungs"][1]["promoted"]);
  const size_t winner = variant["best_trial"];
  EXPECT_EQ(variant["rungs"][2]["entrants"][0], winner);
  size_t pruned = 0;
  for (const auto& trial : variant["trials"])
    if (trial["fate"] == "pruned") ++pruned;
  EXPECT_EQ(pruned, 8u);
  EXPECT_EQ(variant["trials"][winner]["fate"], "finished");

  // The winner was paused at epochs 1 and 3 and resumed twice: it equals one uninterrupted run
  // of its config, with the same run id, metrics rows and weights.
  const auto plan = read_json(folder / "search.json");
  const auto& trial = plan["variants"][0]["trials"][winner];
  std::string overrides;
  for (const auto& [key, value] : trial["values"].items())
    overrides += " " + key + "=" + value.dump();
  const auto trained = run_cadenza("train '" + smoke_search().string() + "'" + overrides +
                                   " --runs-dir '" + (dir / "runs").string() + "'");
  ASSERT_EQ(trained.exit_code, 0) << trained.err;
  const fs::path trained_dir = last_json_line(trained.out)["run_dir"].get<std::string>();
  EXPECT_EQ(trained_dir.filename(), trial["run_id"].get<std::string>());
  const fs::path winner_dir = folder / trial["dir"].get<std::string>();
  EXPECT_EQ(count_occurrences(testing::slurp(winner_dir / "log.txt"), "resumed from"), 2u);
  EXPECT_EQ(metrics_without_timings(winner_dir), metrics_without_timings(trained_dir));
  testing::expect_same_weights(winner_dir, trained_dir);

  const auto status =
      run_cadenza("search '" + smoke_search().string() + "' --status --searches-dir '" +
                  (dir / "searches").string() + "'");
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_TRUE(contains(status.out, "variant base: rungs 1/3/9 epochs, complete")) << status.out;
  EXPECT_TRUE(contains(status.out, "epochs spent: 21 (a full training of every trial: 81)"))
      << status.out;
  EXPECT_TRUE(contains(status.out, "best so far: trial " + std::to_string(winner))) << status.out;

  // A rerun finds every rung decided and trains nothing.
  const auto rerun = run_search(dir / "searches", 2);
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
  EXPECT_EQ(last_json_line(rerun.out)["attempts"], 0);
  EXPECT_EQ(read_json(folder / "decisions.json"), reference_);
}

TEST_F(SearchRun, SigkillsAndRestartsGiveTheSameTable) {
  ScratchDir dir;
  const fs::path searches = dir / "searches";
  const fs::path folder = searches / "smoke_search";
  // Killed (the whole process group) at a first checkpoint, then at the first rung's decision,
  // then in the middle of the second rung; each restart continues where the files stand.
  const auto some_valid_rows = [&](int64_t epochs) {
    return testing::wait_until(
        [&] {
          if (!fs::exists(folder / "runs" / "smoke_search")) return false;
          for (const auto& entry : fs::directory_iterator(folder / "runs" / "smoke_search"))
            if (trained_epochs(entry.path()) >= epochs) return true;
          return false;
        },
        std::chrono::seconds(120));
  };
  for (const int64_t epochs : {1, 2, 3}) {
    BackgroundCadenza search(search_arguments(searches, 2), dir.path(),
                             "killed" + std::to_string(epochs));
    ASSERT_TRUE(some_valid_rows(epochs)) << search.err();
    search.kill_group();
    EXPECT_EQ(search.wait(), 128 + SIGKILL);
  }
  const auto restarted = run_search(searches, 1);
  ASSERT_EQ(restarted.exit_code, 0) << restarted.err;
  EXPECT_EQ(read_json(folder / "decisions.json"), reference_);
}

TEST_F(SearchRun, SigkillsAtRandomMomentsAndARestartGiveTheSameTableAndWinner) {
  ScratchDir dir;
  const fs::path searches = dir / "searches";
  const fs::path folder = searches / "smoke_search";
  const unsigned seed = std::random_device{}();
  std::printf("[ random   ] kill delays drawn with seed %u\n", seed);
  std::mt19937 draw(seed);
  std::uniform_int_distribution<int> delay_ms(300, 5000);
  for (int kill = 0; kill < 4; ++kill) {
    const int delay = delay_ms(draw);
    BackgroundCadenza search(search_arguments(searches, 1 + kill % 2), dir.path(),
                             "random" + std::to_string(kill));
    std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    search.kill_group();
    const int exit_code = search.wait();
    EXPECT_TRUE(exit_code == 128 + SIGKILL || exit_code == 0)
        << "kill " << kill << " after " << delay << " ms (seed " << seed << "): " << exit_code
        << search.err();
  }
  const auto restarted = run_search(searches, 2);
  ASSERT_EQ(restarted.exit_code, 0) << restarted.err << " (seed " << seed << ")";
  EXPECT_EQ(read_json(folder / "decisions.json"), reference_) << "seed " << seed;
  // The winner, killed and resumed anywhere, still equals the uninterrupted search's winner.
  const auto plan = read_json(folder / "search.json");
  const size_t winner = reference_["variants"][0]["best_trial"];
  const fs::path dir_of_winner = plan["variants"][0]["trials"][winner]["dir"].get<std::string>();
  const fs::path reference_folder = *reference_dir_ / "searches" / "smoke_search";
  EXPECT_EQ(metrics_without_timings(folder / dir_of_winner),
            metrics_without_timings(reference_folder / dir_of_winner))
      << "seed " << seed;
  testing::expect_same_weights(folder / dir_of_winner, reference_folder / dir_of_winner);
}

TEST_F(SearchRun, TheReportShowsTheBudgetTheTrialsAndTheRungs) {
  const fs::path folder = *reference_dir_ / "searches" / "smoke_search";
  const std::string md = testing::slurp(folder / "report.md");
  EXPECT_TRUE(contains(md, "# cadenza search smoke_search")) << md;
  EXPECT_TRUE(contains(md, "Selection on validation data only")) << md;
  EXPECT_TRUE(contains(md, "| base | 9 | 1/3/9 | complete | 21 | 81 | 26% | — | — |")) << md;
  EXPECT_TRUE(contains(md, "Confirmation: none")) << md;
  const size_t winner = reference_["variants"][0]["best_trial"];
  EXPECT_TRUE(contains(md, "| " + std::to_string(winner) + " (best) |")) << md;
  EXPECT_EQ(count_occurrences(md, "| pruned | 1 | 1 |"), 6u) << md;
  EXPECT_EQ(count_occurrences(md, "| pruned | 2 | 3 |"), 2u) << md;
  EXPECT_EQ(count_occurrences(md, "| finished |"), 1u) << md;
  // The rungs and their survivors: 3 after rung 1, the winner after rung 2.
  const auto& rungs = reference_["variants"][0]["rungs"];
  EXPECT_TRUE(contains(
      md, "| 1 | 1 | 9 | 9 | " + std::to_string(rungs[0]["promoted"][0].get<int>()) + " ("))
      << md;
  EXPECT_TRUE(contains(md, "| 2 | 3 | 3 | 3 | " + std::to_string(winner) + " (")) << md;
  // One CSV row per trial with its result at every rung it entered.
  const std::string csv = testing::slurp(folder / "report.csv");
  EXPECT_EQ(count_occurrences(csv, "\n"), 1u + 9) << csv;
  EXPECT_TRUE(contains(csv, "rung_3_epoch,rung_3_result\n")) << csv;
  EXPECT_EQ(count_occurrences(csv, ",pruned,"), 8u) << csv;
  // HTML: a scatter per searched key with the pruned trials hollow, and the budget curve.
  const std::string html = testing::slurp(folder / "report.html");
  const auto blocks = testing::svg_blocks(html);
  ASSERT_EQ(blocks.size(), 3u);
  const auto parsed = testing::parse_as_xml(blocks);
  EXPECT_EQ(parsed.exit_code, 0) << parsed.err;
  EXPECT_EQ(parsed.out, "3\n");
  for (size_t b = 0; b < 2; ++b) {
    // 8 pruned trials and the legend entries of the two pruned rungs.
    EXPECT_EQ(count_occurrences(blocks[b], "r=\"4\" fill=\"none\""), 8u + 2) << blocks[b];
    EXPECT_TRUE(contains(blocks[b], ">pruned at rung 1 (epoch 1)</text>")) << blocks[b];
    EXPECT_TRUE(contains(blocks[b], ">best: trial " + std::to_string(winner) + "</text>"));
  }
  EXPECT_TRUE(contains(blocks[0], "model.hidden_size (log scale)</text>")) << blocks[0];
  EXPECT_TRUE(contains(blocks[1], "train.optimizer.lr (log scale)</text>")) << blocks[1];
  EXPECT_TRUE(contains(blocks[2], ">epochs spent</text>")) << blocks[2];
}

TEST_F(SearchRun, TwoProcessesOnOneFolderTrainEachTrialOnce) {
  ScratchDir dir;
  const fs::path searches = dir / "searches";
  const fs::path folder = searches / "smoke_search";
  BackgroundCadenza first(search_arguments(searches, 1), dir.path(), "first");
  BackgroundCadenza second(search_arguments(searches, 1), dir.path(), "second");
  ASSERT_EQ(first.wait(), 0) << first.err();
  ASSERT_EQ(second.wait(), 0) << second.err();
  EXPECT_EQ(read_json(folder / "decisions.json"), reference_);
  const size_t attempts = last_json_line(first.out())["attempts"].get<size_t>() +
                          last_json_line(second.out())["attempts"].get<size_t>();
  EXPECT_EQ(attempts, 9u + 3 + 1) << "a rung of a trial was trained twice";
  // Every epoch of every trial was trained once: one "epoch N step" log line per epoch.
  const SearchPlan plan = plan_search(smoke_search());
  const auto& variant = reference_["variants"][0];
  int64_t epochs = 0;
  for (const auto& trial : plan.trials) {
    const fs::path run_dir = folder / plan.run_of(trial).dir;
    const int64_t trained = variant["trials"][static_cast<size_t>(trial.number)]["epochs"];
    EXPECT_EQ(count_occurrences(testing::slurp(run_dir / "log.txt"), "] epoch "),
              static_cast<size_t>(trained))
        << plan.run_of(trial).run_id();
    epochs += trained;
  }
  EXPECT_EQ(epochs, 21);
  const auto per_trial = attempts_per_trial(plan, folder);
  EXPECT_EQ(std::accumulate(per_trial.begin(), per_trial.end(), 0), 13);
}

TEST(SearchShards, TwoSlurmArrayTasksShareTheRungsOfOneSearch) {
  ScratchDir dir;
  const fs::path experiment =
      testing::experiment_extending(dir, "smoke_search", "sharded_search",
                                    R"(, "train": {"epochs": 3}, "search": {"trials": 3})");
  const fs::path alone = dir / "alone";
  const auto reference =
      run_cadenza("search '" + experiment.string() + "' --searches-dir '" + alone.string() + "'");
  ASSERT_EQ(reference.exit_code, 0) << reference.err;
  // Both array tasks at once: each waits at every rung for the other's trials.
  const std::string script = (testing::source_dir() / "scripts" / "slurm_sweep.sh").string();
  const fs::path sharded = dir / "sharded";
  std::string command;
  for (int task = 0; task < 2; ++task) {
    command += "CADENZA='" + std::string(CADENZA_BINARY) +
               "' SLURM_ARRAY_TASK_ID=" + std::to_string(task) + " SLURM_ARRAY_TASK_COUNT=2 '" +
               script + "' search '" + experiment.string() + "' --searches-dir '" +
               sharded.string() + "' >'" +
               (dir / ("task" + std::to_string(task) + ".out")).string() + "' 2>'" +
               (dir / ("task" + std::to_string(task) + ".err")).string() + "' & task" +
               std::to_string(task) + "=$!; ";
  }
  command += "wait $task0; first=$?; wait $task1; exit $((first + $?))";
  const auto tasks = testing::run_shell(command);
  const std::string err0 = testing::slurp(dir / "task0.err");
  const std::string err1 = testing::slurp(dir / "task1.err");
  ASSERT_EQ(tasks.exit_code, 0) << err0 << err1;
  EXPECT_TRUE(contains(err0, "cadenza search " + experiment.string() + " --shard 0/2")) << err0;
  EXPECT_TRUE(contains(err1, "--shard 1/2")) << err1;
  EXPECT_EQ(read_json(sharded / "sharded_search" / "decisions.json"),
            read_json(alone / "sharded_search" / "decisions.json"));
  const size_t attempts =
      last_json_line(testing::slurp(dir / "task0.out"))["attempts"].get<size_t>() +
      last_json_line(testing::slurp(dir / "task1.out"))["attempts"].get<size_t>();
  EXPECT_EQ(attempts, 3u + 1) << "each rung of each trial trained once, by one of the shards";
  // Outside an array task the script names the search command to run instead.
  const auto outside = testing::run_shell("'" + script + "' search '" + experiment.string() + "'");
  EXPECT_EQ(outside.exit_code, 2);
  EXPECT_TRUE(contains(outside.err, "'cadenza search EXPERIMENT --shard i/n'")) << outside.err;
}

}  // namespace
}  // namespace cadenza
