// Sweeps on a real Slurm cluster (Debian's slurmctld, slurmd and munge, started per test by
// scripts/slurm_local.sh): a job array of scripts/slurm_sweep.sh equals a local `cadenza sweep`;
// an array task cancelled mid-run (scancel sends SIGTERM) and requeued resumes its run from the
// checkpoint it wrote on the signal; `cadenza sweep --slurm` submits the plan and returns, and a
// task cancelled under it and submitted again finishes its run.
//
// Each array task gets every CPU of the node (--cpus-per-task=nproc; task/none binds nothing), so
// its runs use the thread count of a local `cadenza sweep --jobs 1`, and the results must be
// bit-identical to it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "slurm/slurm_test_support.hpp"
#include "sweeps/run_state.hpp"
#include "sweeps/sweep_plan.hpp"
#include "sweeps/sweep_test_support.hpp"

namespace cadenza {
namespace {

namespace fs = std::filesystem;
using testing::experiment_extending;
using testing::last_json_line;
using testing::metrics_without_timings;
using testing::read_json;
using testing::resumed_at_step;
using testing::run_cadenza;
using testing::run_shell;
using testing::SlurmCluster;

constexpr auto kJobLimit = std::chrono::seconds(300);

bool contains(const std::string& text, const std::string& fragment) {
  return text.find(fragment) != std::string::npos;
}

std::string shell_word(const fs::path& path) {
  return "'" + path.string() + "'";
}

std::string cpus_per_task() {
  return std::to_string(::sysconf(_SC_NPROCESSORS_ONLN));
}

// `cadenza sweep EXPERIMENT --jobs 1` into `sweeps`: the reference a Slurm array must equal.
void run_local_sweep(const fs::path& experiment, const fs::path& sweeps) {
  const auto local = run_cadenza("sweep " + shell_word(experiment) + " --jobs 1 --sweeps-dir " +
                                 shell_word(sweeps));
  ASSERT_EQ(local.exit_code, 0) << local.err;
}

// Every run of the plan is completed in both sweep folders, with identical metrics rows (wall-clock
// fields aside) and bit-identical best weights.
void expect_same_runs(const SweepPlan& plan, const fs::path& folder, const fs::path& reference) {
  for (const auto& run : plan.runs) {
    EXPECT_EQ(read_json(folder / run.dir / "manifest.json")["status"], "completed") << run.run_id();
    EXPECT_EQ(metrics_without_timings(folder / run.dir),
              metrics_without_timings(reference / run.dir))
        << run.run_id() << " differs from the local sweep";
    testing::expect_same_weights(folder / run.dir, reference / run.dir);
  }
}

// The run of `plan` that has written a checkpoint and is not completed, and the array task
// ("<job>_<task>") training it, as the sweep's record names it; waits for one.
std::pair<const PlannedRun*, std::string> run_in_progress(const SweepPlan& plan,
                                                          const fs::path& folder) {
  const PlannedRun* found = nullptr;
  std::string task;
  const bool seen = testing::wait_until(
      [&] {
        for (const auto& run : plan.runs) {
          const RunStatus status = probe_run(run_files(folder, run), folder);
          const auto record = read_run_record(run_files(folder, run).record);
          if (status.state == RunState::kRunning && newest_checkpoint_step(folder / run.dir) >= 0 &&
              record.contains("slurm_job")) {
            found = &run;
            task = record["slurm_job"];
            return true;
          }
        }
        return false;
      },
      kJobLimit, testing::kSlurmPoll);
  EXPECT_TRUE(seen) << "no run of " << plan.name << " reached a checkpoint under Slurm";
  return {found, task};
}

TEST_F(SlurmCluster, JobArrayOfTheSmokeSweepEqualsALocalSweep) {
  const fs::path experiment = testing::source_dir() / "experiments" / "smoke_sweep.json";
  const fs::path dir = scratch_.path();
  run_local_sweep(experiment, dir / "local");

  // As docs/sweeps.md says to: from the project root, the experiment relative to it.
  const std::string job =
      submit("--array=0-1 --cpus-per-task=" + cpus_per_task() +
             " --chdir=" + shell_word(testing::source_dir()) +
             " --output=" + shell_word(dir / "slurm-%A_%a.out") +
             " --export=ALL,CADENZA=" + shell_word(CADENZA_BINARY) +
             " scripts/slurm_sweep.sh experiments/smoke_sweep.json --sweeps-dir " +
             shell_word(dir / "slurm"));
  ASSERT_FALSE(job.empty());
  ASSERT_TRUE(wait_for_job_end(job, kJobLimit)) << "job " << job << " did not end";
  for (const std::string task : {"0", "1"}) {
    EXPECT_EQ(job_state(job + "_" + task), "COMPLETED")
        << testing::slurp(dir / ("slurm-" + job + "_" + task + ".out"));
  }

  const SweepPlan plan = plan_sweep(experiment);
  const fs::path folder = dir / "slurm" / "smoke_sweep";
  expect_same_runs(plan, folder, dir / "local" / "smoke_sweep");
  for (int shard = 0; shard < 2; ++shard) {
    for (const size_t index : shard_runs(plan, {shard, 2})) {
      const auto record = read_run_record(run_files(folder, plan.runs[index]).record);
      EXPECT_EQ(record["slurm_job"], job + "_" + std::to_string(shard))
          << "task " << shard << " trains shard " << shard << "/2";
      EXPECT_EQ(record["attempts"], 1);
    }
  }
  const auto status = run_cadenza("sweep " + shell_word(experiment) + " --status --sweeps-dir " +
                                  shell_word(dir / "slurm"));
  EXPECT_TRUE(contains(status.out, "4 runs: 4 done")) << status.out;
}

TEST_F(SlurmCluster, CancelledArrayTaskIsRequeuedAndResumesItsRun) {
  const fs::path dir = scratch_.path();
  const fs::path experiment =
      experiment_extending(scratch_, "smoke", "requeued",
                           R"(, "train": {"epochs": 4}, "sweep": {"grid": {"seed": [1, 2]}})");
  run_local_sweep(experiment, dir / "local");
  const SweepPlan plan = plan_sweep(experiment);
  const fs::path folder = dir / "slurm" / "requeued";

  const std::string job =
      submit("--array=0-1 --cpus-per-task=" + cpus_per_task() +
             " --output=" + shell_word(dir / "slurm-%A_%a.out") +
             " --export=ALL,CADENZA=" + shell_word(CADENZA_BINARY) + " " +
             shell_word(testing::source_dir() / "scripts" / "slurm_sweep.sh") + " " +
             shell_word(experiment) + " --sweeps-dir " + shell_word(dir / "slurm"));
  const auto [run, task] = run_in_progress(plan, folder);
  ASSERT_NE(run, nullptr);
  const fs::path run_dir = folder / run->dir;
  // Slurm sends SIGTERM to every process of the task (then SIGKILL after KillWait): the sweep
  // passes it to its worker, which checkpoints at its next step and stops.
  ASSERT_EQ(run_shell("scancel '" + task + "'").exit_code, 0);
  ASSERT_TRUE(wait_for_state(task, "CANCELLED", kJobLimit)) << job_state(task);
  const auto interrupted = read_json(run_dir / "manifest.json");
  ASSERT_EQ(interrupted["status"], "interrupted")
      << "the run finished before the cancel reached it";
  const int64_t stopped_at = newest_checkpoint_step(run_dir);
  EXPECT_GT(stopped_at, 0);
  EXPECT_EQ(read_run_record(run_files(folder, *run).record)["state"], "interrupted");

  ASSERT_EQ(run_shell("scontrol requeue '" + task + "'").exit_code, 0);
  ASSERT_TRUE(wait_for_job_end(job, kJobLimit)) << "job " << job << " did not end";
  EXPECT_EQ(job_state(task), "COMPLETED") << testing::slurp(dir / ("slurm-" + task + ".out"));

  expect_same_runs(plan, folder, dir / "local" / "requeued");
  // Nothing lost: it resumed at the step its SIGTERM checkpoint holds; nothing twice: one test
  // evaluation, two attempts in all.
  EXPECT_EQ(resumed_at_step(run_dir), stopped_at);
  const std::string log = testing::slurp(run_dir / "log.txt");
  EXPECT_EQ(testing::count_occurrences(log, "test (best valid epoch"), 1u) << log;
  EXPECT_EQ(read_run_record(run_files(folder, *run).record)["attempts"], 2);
}

TEST_F(SlurmCluster, SlurmFlagSubmitsTheArrayAndACancelledTaskResubmittedFinishes) {
  const fs::path dir = scratch_.path();
  const fs::path experiment =
      experiment_extending(scratch_, "smoke", "submitted",
                           R"(, "train": {"epochs": 4}, "sweep": {"grid": {"seed": [1, 2]}})");
  run_local_sweep(experiment, dir / "local");
  const SweepPlan plan = plan_sweep(experiment);
  const fs::path sweeps = dir / "slurm";
  const fs::path folder = sweeps / "submitted";

  const auto submitted = run_cadenza(
      "sweep " + shell_word(experiment) + " --slurm --cpus-per-task " + cpus_per_task() +
      " --time 10 --partition local --sweeps-dir " + shell_word(sweeps));
  ASSERT_EQ(submitted.exit_code, 0) << submitted.err;
  const auto summary = last_json_line(submitted.out);
  const std::string job = summary["job_id"];
  // It submits and returns; it does not wait for the runs (each takes seconds).
  EXPECT_TRUE(job_listed(job));
  EXPECT_EQ(summary["tasks"], 2);
  const std::string script = testing::slurp(summary["script"].get<std::string>());
  for (const char* directive :
       {"#SBATCH --array=0-1\n", "#SBATCH --time=10\n", "#SBATCH --partition=local\n",
        "#SBATCH --job-name=cadenza-submitted\n"}) {
    EXPECT_TRUE(contains(script, directive)) << script;
  }
  EXPECT_TRUE(contains(submitted.err, "submitted Slurm job " + job)) << submitted.err;

  // --status from outside the job sees the run a task trains, and which task it is.
  const auto [run, task] = run_in_progress(plan, folder);
  ASSERT_NE(run, nullptr);
  const std::string status_command =
      "sweep " + shell_word(experiment) + " --status --sweeps-dir " + shell_word(sweeps);
  const auto running = run_cadenza(status_command);
  EXPECT_TRUE(contains(running.out, "slurm job " + task)) << running.out;

  ASSERT_EQ(run_shell("scancel '" + task + "'").exit_code, 0);
  ASSERT_TRUE(wait_for_state(task, "CANCELLED", kJobLimit)) << job_state(task);
  ASSERT_EQ(read_json(folder / run->dir / "manifest.json")["status"], "interrupted");
  const int64_t stopped_at = newest_checkpoint_step(folder / run->dir);
  // A new submission of that task alone: the script keeps the shard count, so it trains the same
  // run, resumed from its checkpoint.
  const std::string index = task.substr(task.find('_') + 1);
  const std::string again =
      submit("--array=" + index + " " + shell_word(fs::path(summary["script"].get<std::string>())));
  ASSERT_TRUE(wait_for_job_end(job, kJobLimit));
  ASSERT_TRUE(wait_for_job_end(again, kJobLimit));
  EXPECT_EQ(job_state(again + "_" + index), "COMPLETED")
      << testing::slurp(folder / "slurm" / (again + "_" + index + ".out"));

  const auto done = run_cadenza(status_command);
  EXPECT_TRUE(contains(done.out, "2 runs: 2 done")) << done.out;
  expect_same_runs(plan, folder, dir / "local" / "submitted");
  EXPECT_EQ(resumed_at_step(folder / run->dir), stopped_at);
  EXPECT_EQ(read_run_record(run_files(folder, *run).record)["attempts"], 2);
}

}  // namespace
}  // namespace cadenza
