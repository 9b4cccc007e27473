// Sweeps through the real binary on real JSB data: a tiny sweep with two workers (layout, status,
// the threads rule, a rerun that skips everything), a failed run, shards through the Slurm
// script, two cooperating sweep processes, and a sweep killed (SIGKILL) and restarted.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <set>

#include "core/threads.hpp"
#include "runs/run_dir.hpp"
#include "runs/run_lock.hpp"
#include "sweeps/run_state.hpp"
#include "sweeps/sweep_plan.hpp"
#include "sweeps/sweep_test_support.hpp"
#include "train/checkpoint_format.hpp"

namespace cadenza {
namespace {

namespace fs = std::filesystem;
using testing::BackgroundCadenza;
using testing::checkpoint_steps;
using testing::count_occurrences;
using testing::experiment_extending;
using testing::last_json_line;
using testing::metrics_without_timings;
using testing::read_json;
using testing::run_cadenza;
using testing::ScratchDir;
using testing::wait_for_progress;

bool contains(const std::string& text, const std::string& fragment) {
  return text.find(fragment) != std::string::npos;
}

std::string sweep_command(const fs::path& experiment, const fs::path& sweeps,
                          const std::string& flags) {
  return "sweep '" + experiment.string() + "' --sweeps-dir '" + sweeps.string() + "' " + flags;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Lines of `--status` output that describe runs (they start with a state name).
std::map<std::string, std::string> status_by_run(const std::string& out) {
  std::map<std::string, std::string> states;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string state, id;
    words >> state >> id;
    const bool is_state = state == "done" || state == "running" || state == "failed" ||
                          state == "partial" || state == "pending";
    if (is_state && id.size() == 12) states[id] = state;
  }
  return states;
}

TEST(SweepRun, SmokeSweepWithTwoJobsThenStatusThenAFastRerun) {
  ScratchDir dir;
  const auto experiment = testing::source_dir() / "experiments" / "smoke_sweep.json";
  const auto sweeps = dir / "sweeps";
  const auto start = std::chrono::steady_clock::now();
  const auto result = run_cadenza(sweep_command(experiment, sweeps, "--jobs 2"));
  const double first_seconds = seconds_since(start);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto summary = last_json_line(result.out);
  EXPECT_EQ(summary["runs"], 4);
  EXPECT_EQ(summary["done"], 4);
  EXPECT_EQ(summary["attempts"], 4);
  EXPECT_TRUE(summary["failed"].empty());

  const fs::path folder = sweeps / "smoke_sweep";
  const auto document = read_json(folder / "sweep.json");
  EXPECT_EQ(document["format"], "cadenza-sweep");
  EXPECT_EQ(document["version"], 1);
  EXPECT_EQ(document["name"], "smoke_sweep");
  ASSERT_EQ(document["runs"].size(), 4u);
  // The threads rule: two workers split the cores; a run's thread count is in its manifest.
  const int cores_per_worker = std::max(1, available_cores() / 2);
  std::set<std::string> cores_used;
  for (const auto& run : document["runs"]) {
    const fs::path run_dir = folder / run["dir"].get<std::string>();
    EXPECT_EQ(run_dir.filename(), run["run_id"].get<std::string>());
    const auto manifest = read_json(run_dir / "manifest.json");
    EXPECT_EQ(manifest["status"], "completed");
    EXPECT_EQ(manifest["threads"]["cores"], cores_per_worker);
    EXPECT_EQ(manifest["threads"]["compute_openmp"], cores_per_worker);
    EXPECT_EQ(metrics_without_timings(run_dir).size(), 3u * 2 + 1);
    const auto record = read_json(folder / "state" / (run["run_id"].get<std::string>() + ".json"));
    EXPECT_EQ(record["state"], "completed");
    EXPECT_EQ(record["attempts"], 1);
    EXPECT_EQ(record["exit_code"], 0);
    // Records are committed (results/studies/), so they name the program, not its path here.
    for (const std::string& command :
         {record["command"].get<std::string>(), manifest["command_line"].get<std::string>()}) {
      EXPECT_TRUE(command.starts_with("cadenza train ")) << command;
      EXPECT_FALSE(contains(command, CADENZA_BINARY)) << command;
    }
    const auto log = testing::slurp(folder / record["log"].get<std::string>());
    EXPECT_TRUE(contains(log, "===== cadenza sweep: attempt 1 of run")) << log;
    for (const char* cpu_list : {"cores 0)", "cores 1)"}) {
      if (contains(log, cpu_list)) cores_used.insert(cpu_list);
    }
  }
  if (available_cores() >= 2) {
    EXPECT_EQ(cores_used.size(), 2u) << "the two workers should run on different cores";
  }

  // Same config, seed and thread count as a plain `cadenza train`: bit-identical metrics (the
  // run ids differ, since threads.compute is part of the config there).
  const auto& first_run = document["runs"][0];
  std::string overrides;
  for (const auto& [key, value] : first_run["overrides"].items())
    overrides += " " + key + "=" + value.dump();
  const auto trained = run_cadenza("train '" + experiment.string() + "'" + overrides +
                                   " threads.compute=" + std::to_string(cores_per_worker) +
                                   " --runs-dir '" + (dir / "runs").string() + "'");
  ASSERT_EQ(trained.exit_code, 0) << trained.err;
  const fs::path trained_dir = last_json_line(trained.out)["run_dir"].get<std::string>();
  EXPECT_NE(trained_dir.filename(), first_run["run_id"].get<std::string>());
  EXPECT_EQ(metrics_without_timings(trained_dir, true),
            metrics_without_timings(folder / first_run["dir"].get<std::string>(), true));

  const auto status = run_cadenza(sweep_command(experiment, sweeps, "--status"));
  ASSERT_EQ(status.exit_code, 0) << status.err;
  const auto states = status_by_run(status.out);
  ASSERT_EQ(states.size(), 4u) << status.out;
  for (const auto& [id, state] : states)
    EXPECT_EQ(state, "done") << id;
  EXPECT_TRUE(contains(status.out, "4 runs: 4 done, 0 running, 0 failed, 0 partial, 0 pending"))
      << status.out;
  EXPECT_TRUE(contains(status.out, "test nll ")) << status.out;

  const auto again_start = std::chrono::steady_clock::now();
  const auto again = run_cadenza(sweep_command(experiment, sweeps, "--jobs 2"));
  const double again_seconds = seconds_since(again_start);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(last_json_line(again.out)["attempts"], 0);
  EXPECT_EQ(last_json_line(again.out)["done"], 4);
  EXPECT_LT(again_seconds, 3.0) << "a rerun of a finished sweep only reads its files";
  std::printf("[ measured ] smoke_sweep --jobs 2: %.2f s; rerun: %.2f s\n", first_seconds,
              again_seconds);
}

TEST(SweepRun, FailedRunIsRecordedAndTheOthersComplete) {
  ScratchDir dir;
  const auto experiment = experiment_extending(dir, "smoke", "failing",
                                               R"(, "train": {"epochs": 1, "max_steps": 3},
           "sweep": {"grid": {"data.dataset": ["JSB_Chorales", "no/such/dataset.h5"]}})");
  const auto sweeps = dir / "sweeps";
  const auto result = run_cadenza(sweep_command(experiment, sweeps, "--jobs 2"));
  EXPECT_EQ(result.exit_code, 5) << result.err;
  const auto summary = last_json_line(result.out);
  EXPECT_EQ(summary["done"], 1);
  ASSERT_EQ(summary["failed"].size(), 1u);
  const std::string failed_id = summary["failed"][0];
  EXPECT_TRUE(contains(result.err, "FAILED " + failed_id)) << result.err;
  const fs::path folder = sweeps / "failing";
  const auto record = read_json(folder / "state" / (failed_id + ".json"));
  EXPECT_EQ(record["state"], "failed");
  EXPECT_EQ(record["exit_code"], 2) << "a dataset path that does not exist is a config error";
  EXPECT_EQ(record["log"], "logs/" + failed_id + ".log");
  EXPECT_TRUE(contains(testing::slurp(folder / "logs" / (failed_id + ".log")), "no/such/dataset"));

  const auto status = run_cadenza(sweep_command(experiment, sweeps, "--status"));
  EXPECT_EQ(status_by_run(status.out)[failed_id], "failed") << status.out;
  EXPECT_TRUE(contains(status.out, "exit code 2 (attempt 1), log logs/" + failed_id + ".log"))
      << status.out;
  EXPECT_TRUE(contains(status.out, "2 runs: 1 done, 0 running, 1 failed")) << status.out;

  // A restart does not retry a failed run unless asked to; then it tries once more.
  const auto again = run_cadenza(sweep_command(experiment, sweeps, "--jobs 2"));
  EXPECT_EQ(again.exit_code, 5);
  EXPECT_EQ(last_json_line(again.out)["attempts"], 0);
  const auto retried = run_cadenza(sweep_command(experiment, sweeps, "--retry-failed"));
  EXPECT_EQ(retried.exit_code, 5);
  EXPECT_EQ(last_json_line(retried.out)["attempts"], 1);
  EXPECT_EQ(read_json(folder / "state" / (failed_id + ".json"))["attempts"], 2);
}

TEST(SweepRun, SlurmArrayTasksTrainDisjointShards) {
  ScratchDir dir;
  const auto experiment =
      experiment_extending(dir, "smoke_sweep", "sharded", R"(, "train": {"epochs": 1})");
  const auto sweeps = dir / "sweeps";
  const auto plan = plan_sweep(experiment);
  const std::string script = (testing::source_dir() / "scripts" / "slurm_sweep.sh").string();
  std::set<std::string> trained;
  for (int task = 0; task < 2; ++task) {
    const auto result = testing::run_shell("CADENZA='" + std::string(CADENZA_BINARY) +
                                           "' SLURM_ARRAY_TASK_ID=" + std::to_string(task + 10) +
                                           " SLURM_ARRAY_TASK_MIN=10 SLURM_ARRAY_TASK_COUNT=2 '" +
                                           script + "' '" + experiment.string() +
                                           "' --jobs 2 --sweeps-dir '" + sweeps.string() + "'");
    ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
    EXPECT_TRUE(contains(result.err, "--shard " + std::to_string(task) + "/2")) << result.err;
    // Exactly this shard's runs are done now.
    const auto status = run_cadenza(sweep_command(experiment, sweeps, "--status"));
    const auto states = status_by_run(status.out);
    for (const size_t index : shard_runs(plan, {task, 2})) {
      const auto& id = plan.runs[index].run_id();
      EXPECT_EQ(states.at(id), "done") << status.out;
      EXPECT_TRUE(trained.insert(id).second) << id << " is in two shards";
    }
    const size_t done = static_cast<size_t>(std::count_if(
        states.begin(), states.end(), [](const auto& entry) { return entry.second == "done"; }));
    EXPECT_EQ(done, trained.size()) << status.out;
  }
  EXPECT_EQ(trained.size(), plan.runs.size());
  const auto outside = testing::run_shell("'" + script + "' '" + experiment.string() + "'");
  EXPECT_EQ(outside.exit_code, 2) << "outside a Slurm array task the script says so";
  EXPECT_TRUE(contains(outside.err, "SLURM_ARRAY_TASK_ID")) << outside.err;
}

TEST(SweepRun, TwoSweepProcessesOnOneFolderTrainEachRunOnce) {
  ScratchDir dir;
  const auto experiment =
      experiment_extending(dir, "smoke_sweep", "shared", R"(, "train": {"epochs": 2})");
  const auto sweeps = dir / "sweeps";
  const std::vector<std::string> arguments = {
      "sweep", experiment.string(), "--sweeps-dir", sweeps.string(), "--jobs", "2"};
  BackgroundCadenza first(arguments, dir.path(), "first");
  BackgroundCadenza second(arguments, dir.path(), "second");
  ASSERT_EQ(first.wait(), 0) << first.err();
  ASSERT_EQ(second.wait(), 0) << second.err();
  const auto first_summary = last_json_line(first.out());
  const auto second_summary = last_json_line(second.out());
  // Each process reports the whole sweep done (it waited for the runs the other one trained)...
  EXPECT_EQ(first_summary["done"], 4);
  EXPECT_EQ(second_summary["done"], 4);
  // ...and together they started exactly one attempt per run.
  EXPECT_EQ(first_summary["attempts"].get<int>() + second_summary["attempts"].get<int>(), 4)
      << first.err() << second.err();
  const fs::path folder = sweeps / "shared";
  for (const auto& run : plan_sweep(experiment).runs) {
    const fs::path run_dir = folder / run.dir;
    EXPECT_EQ(read_json(folder / "state" / (run.run_id() + ".json"))["attempts"], 1);
    const auto log = testing::slurp(run_dir / "log.txt");
    EXPECT_EQ(count_occurrences(log, "run " + run.run_id() + " of 'shared'"), 1u) << log;
    EXPECT_EQ(metrics_without_timings(run_dir).size(), 2u * 2 + 1);
  }
}

bool any_lock_held(const fs::path& folder) {
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(folder / "locks", error)) {
    if (RunLock::is_held(entry.path())) return true;
  }
  return false;
}

// A run stopped by SIGTERM keeps the status "interrupted"; when its next attempt then fails
// before training (here its config.json was edited, so the resume is refused with exit 2), the
// sweep records it as failed and ends (exit 5) instead of retrying it at once, forever.
TEST(SweepRun, AnInterruptedRunWhoseResumeFailsIsAFailureNotARetry) {
  ScratchDir dir;
  const auto experiment =
      experiment_extending(dir, "smoke_sweep", "refused", R"(, "train": {"epochs": 40})");
  const auto plan = plan_sweep(experiment);
  const auto sweeps = dir / "sweeps";
  const fs::path folder = sweeps / "refused";
  {
    BackgroundCadenza sweep({"sweep", experiment.string(), "--sweeps-dir", sweeps.string()},
                            dir.path(), "terminated");
    ASSERT_TRUE(wait_for_progress(plan, folder, checkpoint_steps(plan, folder))) << sweep.err();
    ::kill(sweep.pid(), SIGTERM);
    EXPECT_EQ(sweep.wait(), 128 + SIGTERM) << sweep.err();
  }
  std::vector<fs::path> interrupted;
  for (const auto& run : plan.runs) {
    const fs::path run_dir = folder / run.dir;
    if (RunDirectory::status_of(run_dir) != "interrupted") continue;
    interrupted.push_back(run_dir);
    nlohmann::json config = read_json(run_dir / "config.json");
    config["model"]["hidden_size"] = config["model"]["hidden_size"].get<int>() + 1;
    std::ofstream(run_dir / "config.json") << config.dump(2);
  }
  ASSERT_FALSE(interrupted.empty()) << "SIGTERM left no run interrupted";
  const auto rerun = run_cadenza(sweep_command(experiment, sweeps, ""));
  EXPECT_EQ(rerun.exit_code, 5) << rerun.out << rerun.err;
  const nlohmann::json summary = last_json_line(rerun.out);
  EXPECT_EQ(summary["failed"].size(), interrupted.size()) << rerun.out;
  // One attempt per run, the refused ones included: no loop of retries.
  EXPECT_EQ(summary["attempts"], plan.runs.size()) << rerun.out;
  EXPECT_NE(rerun.err.find("FAILED"), std::string::npos) << rerun.err;
}

TEST(SweepRun, KilledAndRestartedSweepEqualsAnUninterruptedOne) {
  ScratchDir dir;
  const auto experiment =
      experiment_extending(dir, "smoke_sweep", "killed", R"(, "train": {"epochs": 4})");
  const auto plan = plan_sweep(experiment);
  const auto reference = run_cadenza(sweep_command(experiment, dir / "reference", "--jobs 2"));
  ASSERT_EQ(reference.exit_code, 0) << reference.err;

  const auto sweeps = dir / "sweeps";
  const fs::path folder = sweeps / "killed";
  const std::vector<std::string> arguments = {
      "sweep", experiment.string(), "--sweeps-dir", sweeps.string(), "--jobs", "2"};
  {
    // SIGKILL to the sweep's whole process group in the middle of a run.
    BackgroundCadenza sweep(arguments, dir.path(), "killed1");
    ASSERT_TRUE(wait_for_progress(plan, folder, checkpoint_steps(plan, folder))) << sweep.err();
    sweep.kill_group();
    EXPECT_EQ(sweep.wait(), 128 + SIGKILL) << "the sweep finished before the kill";
  }
  // The kernel drops the locks as the killed processes exit.
  EXPECT_TRUE(testing::wait_until([&] { return !any_lock_held(folder); }, std::chrono::seconds(5)))
      << "a killed sweep must leave no lock behind";
  const auto status = run_cadenza(sweep_command(experiment, sweeps, "--status"));
  std::map<std::string, size_t> counts;
  for (const auto& [id, state] : status_by_run(status.out))
    ++counts[state];
  EXPECT_GE(counts["partial"], 1u) << status.out;
  EXPECT_EQ(counts["running"], 0u) << status.out;
  EXPECT_EQ(counts["done"] + counts["partial"] + counts["pending"], plan.runs.size()) << status.out;
  {
    // SIGKILL to the sweep process alone: its workers die with it (PR_SET_PDEATHSIG).
    const auto before = checkpoint_steps(plan, folder);
    BackgroundCadenza sweep(arguments, dir.path(), "killed2");
    ASSERT_TRUE(wait_for_progress(plan, folder, before)) << sweep.err();
    sweep.kill_leader();
    EXPECT_EQ(sweep.wait(), 128 + SIGKILL);
    EXPECT_TRUE(
        testing::wait_until([&] { return !any_lock_held(folder); }, std::chrono::seconds(5)))
        << "the workers outlived the sweep";
  }
  const auto restarted = run_cadenza(sweep_command(experiment, sweeps, "--jobs 2"));
  ASSERT_EQ(restarted.exit_code, 0) << restarted.err;
  EXPECT_EQ(last_json_line(restarted.out)["done"], 4);

  size_t resumed_runs = 0;
  for (const auto& run : plan.runs) {
    const fs::path run_dir = folder / run.dir;
    const fs::path reference_dir = dir / "reference" / "killed" / run.dir;
    EXPECT_EQ(metrics_without_timings(run_dir), metrics_without_timings(reference_dir))
        << run.run_id() << " differs from the uninterrupted run";
    const auto weights = load_checkpoint(run_dir / "checkpoints" / "best.h5").params;
    const auto reference_weights =
        load_checkpoint(reference_dir / "checkpoints" / "best.h5").params;
    ASSERT_EQ(weights.size(), reference_weights.size());
    for (const auto& [name, tensor] : weights) {
      const auto& other = reference_weights.at(name);
      ASSERT_EQ(tensor.dims(), other.dims()) << name;
      EXPECT_EQ(0, std::memcmp(tensor.data(), other.data(),
                               static_cast<size_t>(tensor.numel()) * sizeof(float)))
          << run.run_id() << ": " << name << " differs";
    }
    const auto log = testing::slurp(run_dir / "log.txt");
    EXPECT_EQ(count_occurrences(log, "test (best valid epoch"), 1u)
        << run.run_id() << " was completed more than once:\n"
        << log;
    if (contains(log, "resumed from")) ++resumed_runs;
  }
  EXPECT_GE(resumed_runs, 1u) << "no run was resumed from a checkpoint";
  std::printf("[ measured ] %zu of %zu runs resumed from a checkpoint after the kills\n",
              resumed_runs, plan.runs.size());
}

TEST(SweepRun, ARunKeepsItsThreadCountWhenJobsChange) {
  ScratchDir dir;
  // One run (no sweep block), long enough to be killed after its first checkpoint.
  const auto experiment =
      experiment_extending(dir, "smoke", "threads_rule", R"(, "train": {"epochs": 5})");
  const auto plan = plan_sweep(experiment);
  const fs::path folder = dir / "sweeps" / "threads_rule";
  const fs::path run_dir = folder / plan.runs[0].dir;
  {
    // --jobs 2 gives the run half of the cores...
    BackgroundCadenza sweep(
        {"sweep", experiment.string(), "--sweeps-dir", (dir / "sweeps").string(), "--jobs", "2"},
        dir.path(), "threads");
    ASSERT_TRUE(wait_for_progress(plan, folder, checkpoint_steps(plan, folder))) << sweep.err();
    sweep.kill_group();
    sweep.wait();
  }
  const int started_with = read_json(run_dir / "manifest.json")["threads"]["cores"];
  EXPECT_EQ(started_with, std::max(1, available_cores() / 2));
  // ...and a restart with --jobs 1 (all the cores per worker) keeps that count, so the run ends
  // bit-identical to one trained throughout with it; its id has not changed.
  const auto restarted = run_cadenza(sweep_command(experiment, dir / "sweeps", "--jobs 1"));
  ASSERT_EQ(restarted.exit_code, 0) << restarted.err;
  if (available_cores() >= 2) {
    EXPECT_TRUE(contains(restarted.err, "continues with the 1 core(s) it started with"))
        << restarted.err;
  }
  const auto manifest = read_json(run_dir / "manifest.json");
  EXPECT_EQ(manifest["status"], "completed");
  EXPECT_EQ(manifest["resumed"], true);
  EXPECT_EQ(manifest["threads"]["cores"], started_with);
  EXPECT_EQ(manifest["threads"]["compute_openmp"], started_with);
  const auto trained = run_cadenza("train '" + experiment.string() +
                                   "' threads.compute=" + std::to_string(started_with) +
                                   " --runs-dir '" + (dir / "runs").string() + "'");
  ASSERT_EQ(trained.exit_code, 0) << trained.err;
  EXPECT_EQ(
      metrics_without_timings(last_json_line(trained.out)["run_dir"].get<std::string>(), true),
      metrics_without_timings(run_dir, true));
}

}  // namespace
}  // namespace cadenza
