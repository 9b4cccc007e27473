// `cadenza sweep EXPERIMENT --slurm`: a sweep's plan as one Slurm job array (docs/scale.md).
//
// The array has one task per run of the plan (n tasks for n runs); task i runs
// `cadenza sweep EXPERIMENT --shard i/n`, the sweep machinery unchanged (locks, resume from
// checkpoints, records), so the tasks train disjoint runs, a cancelled or requeued task resumes
// its run, and `cadenza sweep EXPERIMENT --status` reads where each run stands from the folder.
// The script keeps n fixed, so a resubmission of some tasks (`sbatch --array=2,5 SCRIPT`) trains
// the same runs again; the script is written to <sweep folder>/slurm/array.sh and each task's
// output to <sweep folder>/slurm/<job>_<task>.out.
#pragma once

#include <filesystem>
#include <string>

#include "sweeps/sweep_plan.hpp"

namespace cadenza {

struct SlurmArrayRequest {
  std::filesystem::path cadenza_binary;  // what the tasks run
  std::filesystem::path sweeps_dir;      // --sweeps-dir of the tasks
  bool retry_failed = false;             // the tasks pass --retry-failed
  std::string partition;                 // sbatch --partition; "" = the cluster's default
  std::string time_limit;                // sbatch --time; "" = the partition's default
  int cpus_per_task = 2;                 // sbatch --cpus-per-task
};

// Throws UsageError naming the flag and value when the partition, time limit or CPU count is not
// one sbatch accepts (time: minutes, minutes:seconds, hours:minutes:seconds, days-hours,
// days-hours:minutes or days-hours:minutes:seconds).
void check_slurm_request(const SlurmArrayRequest& request);

// The sbatch script of the plan's array: #SBATCH directives (job name cadenza-<name>, array
// 0-(n-1), CPUs, partition, time, output, the submission's working directory), then the exec of
// `cadenza sweep`. Paths are made absolute, so any node that sees the folder runs it the same.
// Throws UsageError when a path the directives name contains whitespace (sbatch cannot quote it).
std::string slurm_array_script(const SweepPlan& plan, const std::filesystem::path& folder,
                               const SlurmArrayRequest& request);

struct SlurmSubmission {
  std::string job_id;            // the array's job id, as sbatch --parsable prints it
  std::filesystem::path script;  // <folder>/slurm/array.sh
  size_t tasks = 0;
};

// Writes slurm_array_script() to <folder>/slurm/array.sh (atomically) and submits it with
// `sbatch --parsable`; does not wait for the jobs. Throws Error when sbatch is not on PATH or
// refuses the job (quoting what sbatch said).
SlurmSubmission submit_slurm_array(const SweepPlan& plan, const std::filesystem::path& folder,
                                   const SlurmArrayRequest& request);

}  // namespace cadenza
