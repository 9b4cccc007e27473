// `cadenza sweep EXPERIMENT [--jobs N] [--shard i/n] [--retry-failed] [--sweeps-dir DIR]` runs
// every run of an experiment's sweep; `--status` prints where each run stands; `--slurm
// [--partition P] [--time T] [--cpus-per-task C]` submits the plan as a Slurm job array and exits.
// Exit codes: 0 every run (of the shard) is done, or the array was submitted; 5 the sweep ended
// with failed runs.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <memory>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "core/interrupt.hpp"
#include "sweeps/run_state.hpp"
#include "sweeps/slurm_array.hpp"
#include "sweeps/sweep_plan.hpp"
#include "sweeps/sweep_runner.hpp"

namespace cadenza::cli {
namespace {

namespace fs = std::filesystem;

// A sweep that ran to its end with one or more failed runs.
constexpr int kExitRunsFailed = 5;

int print_status(const SweepPlan& plan, const fs::path& folder, const Shard& shard) {
  const auto runs = shard_runs(plan, shard);
  fmt::print("sweep {}: {} runs in {}{}\n", plan.name, plan.runs.size(), folder.string(),
             shard.count > 1
                 ? fmt::format(" (shard {}/{}: {} of them)", shard.index, shard.count, runs.size())
                 : std::string());
  size_t variant_width = 7;
  for (const size_t index : runs)
    variant_width = std::max(variant_width, plan.runs[index].variant.size());
  fmt::print("{:<8} {:<12} {:>5}  {:<{}}  {}\n", "state", "run id", "seed", "variant",
             variant_width, "detail");
  std::map<RunState, size_t> counts;
  for (const size_t index : runs) {
    const PlannedRun& run = plan.runs[index];
    const RunStatus status = probe_run(run_files(folder, run), folder);
    ++counts[status.state];
    fmt::print("{:<8} {:<12} {:>5}  {:<{}}  {}\n", state_name(status.state), run.run_id(),
               run.resolved.config.seed, run.variant, variant_width, status.detail);
  }
  std::vector<std::string> parts;
  for (const RunState state : {RunState::kDone, RunState::kRunning, RunState::kFailed,
                               RunState::kPartial, RunState::kPending}) {
    parts.push_back(fmt::format("{} {}", counts[state], state_name(state)));
  }
  fmt::print("{} runs: {}\n", runs.size(), fmt::join(parts, ", "));
  return 0;
}

// Submits the plan as a job array; prints {"job_id", "tasks", "script", "sweep_dir"}.
int submit_to_slurm(const SweepPlan& plan, const fs::path& folder,
                    const SlurmArrayRequest& request) {
  const SlurmSubmission submission = submit_slurm_array(plan, folder, request);
  fmt::print(stderr,
             "sweep {}: submitted Slurm job {}, {} array task(s), one per run (script {}); "
             "`cadenza sweep {} --status` shows where the runs stand\n",
             plan.name, submission.job_id, submission.tasks, submission.script.string(),
             plan.experiment.string());
  fmt::print("{}\n", nlohmann::json{{"job_id", submission.job_id},
                                    {"tasks", submission.tasks},
                                    {"script", submission.script.string()},
                                    {"sweep_dir", folder.string()}}
                         .dump());
  return 0;
}

}  // namespace

void add_sweep_command(CLI::App& app, Action& action) {
  struct Options {
    std::string experiment;
    int jobs = 1;
    std::string shard = "0/1";
    bool status = false;
    bool retry_failed = false;
    std::string sweeps_dir = "results/sweeps";
    bool slurm = false;
    SlurmArrayRequest slurm_request;
  };
  auto options = std::make_shared<Options>();
  CLI::App* command = app.add_subcommand(
      "sweep",
      "Run every run of an experiment's sweep (resumable; cooperating processes share the work "
      "through locks); outputs go to SWEEPS_DIR/<name>/");
  command->add_option("experiment", options->experiment, "Experiment JSON file")->required();
  command
      ->add_option("--jobs", options->jobs,
                   "Runs trained at once, each a `cadenza train` process on cores / N cores")
      ->capture_default_str();
  command
      ->add_option("--shard", options->shard,
                   "Run only part i of n (0 <= i < n) of the plan, e.g. a Slurm array task")
      ->capture_default_str();
  CLI::Option* status = command->add_flag(
      "--status", options->status,
      "Print each run's state (done, running, failed, partial, pending) and exit");
  command->add_flag("--retry-failed", options->retry_failed,
                    "Try failed runs once more (resuming from their checkpoints)");
  command->add_option("--sweeps-dir", options->sweeps_dir, "Root of the sweep folders")
      ->capture_default_str();
  CLI::Option* slurm =
      command
          ->add_flag("--slurm", options->slurm,
                     "Submit the plan as a Slurm job array (one task per run, sbatch) and exit")
          ->excludes(status)
          ->excludes("--jobs")
          ->excludes("--shard");
  command->add_option("--partition", options->slurm_request.partition, "Slurm partition (--slurm)")
      ->needs(slurm);
  command
      ->add_option("--time", options->slurm_request.time_limit,
                   "Time limit of each array task, in sbatch's formats (--slurm)")
      ->needs(slurm);
  command
      ->add_option("--cpus-per-task", options->slurm_request.cpus_per_task,
                   "CPUs of each array task (--slurm)")
      ->capture_default_str()
      ->needs(slurm);
  command->callback([options, &action] {
    action = [options] {
      const Shard shard = parse_shard(options->shard);
      if (options->jobs < 1) {
        throw UsageError(fmt::format("--jobs {}: must be at least 1", options->jobs));
      }
      const SweepPlan plan = plan_sweep(options->experiment);
      const fs::path folder = sweep_folder(plan, options->sweeps_dir);
      if (options->status) return print_status(plan, folder, shard);
      if (options->slurm) check_slurm_request(options->slurm_request);
      if (plan.axes.empty()) {
        fmt::print(stderr, "note: {} declares no sweep; it is run as a sweep of one run\n",
                   options->experiment);
      }
      const auto dropped = write_sweep_document(plan, folder);
      if (!dropped.empty()) {
        fmt::print(stderr,
                   "note: {} run(s) of the previous plan in {} are no longer in the sweep (the "
                   "experiment changed); their directories are kept: {}\n",
                   dropped.size(), folder.string(), fmt::join(dropped, ", "));
      }
      if (options->slurm) {
        SlurmArrayRequest request = options->slurm_request;
        request.cadenza_binary = fs::read_symlink("/proc/self/exe");
        request.sweeps_dir = options->sweeps_dir;
        request.retry_failed = options->retry_failed;
        return submit_to_slurm(plan, folder, request);
      }
      SweepOptions sweep;
      sweep.jobs = options->jobs;
      sweep.shard = shard;
      sweep.retry_failed = options->retry_failed;
      sweep.cadenza_binary = fs::read_symlink("/proc/self/exe");
      InterruptHandlers interrupt_handlers;
      const SweepResult result = run_sweep(plan, folder, sweep);
      std::vector<std::string> failed;
      for (const size_t index : result.failed)
        failed.push_back(plan.runs[index].run_id());
      fmt::print(stderr, "sweep {}: {} runs, {} done, {} failed ({} attempts started now)\n",
                 plan.name, result.runs.size(), result.done.size(), result.failed.size(),
                 result.attempts);
      fmt::print("{}\n", nlohmann::json{{"sweep_dir", folder.string()},
                                        {"runs", result.runs.size()},
                                        {"done", result.done.size()},
                                        {"failed", failed},
                                        {"attempts", result.attempts}}
                             .dump());
      return result.complete() ? 0 : kExitRunsFailed;
    };
  });
}

}  // namespace cadenza::cli
