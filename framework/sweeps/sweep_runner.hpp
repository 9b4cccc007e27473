// Runs a sweep's plan, or one shard of it, on `jobs` worker processes (sweeps/
// worker_process.hpp), resumably and cooperatively:
//
//   for each run of the shard, in plan order, while a worker slot is free:
//     take the run's lock without waiting; a run another process holds is left to it and looked
//     at again later;
//     under the lock, read the run's files (sweeps/run_state.hpp): done -> skip; failed ->
//     skip (unless retry_failed: one new attempt per invocation); otherwise start an attempt:
//       `cadenza train --resume RUN_DIR` when the run directory has its config.json (it continues
//       from its newest valid checkpoint, or starts over in place when it has none), else
//       `cadenza train EXPERIMENT key=value ... --runs-dir <sweep>/runs` (with --force over a
//       directory an earlier attempt created but never configured);
//     the lock is held (by the sweep and its child) until the child has exited and its outcome
//     is recorded in state/<run id>.json.
//
// It returns once every run of the shard is done or failed, waiting for runs other processes are
// training. A sweep killed at any moment (SIGKILL included) leaves no stale lock (the kernel drops
// flock locks with the last descriptor; the children die with the sweep): a restart finds each
// run done, partial (resumed from its checkpoint) or pending, so no run is lost or trained twice.
//
// The contract between the sweep and each `cadenza train` worker it starts:
//   arguments  exactly one of the two command lines above; the overrides set every sweep axis key,
//              so the worker's run id is the planned one (plan.runs[i].run_id());
//   lock       the sweep holds locks/<run id>.lock and hands the open descriptor to the child
//              (its only inherited descriptor), so the lock lives until both are gone;
//   output     the child writes only inside its run directory (runs/<name>/<run id>/: config,
//              manifest, metrics, log.txt, checkpoints) and appends stdout/stderr to
//              logs/<run id>.log; the sweep alone writes state/<run id>.json and sweep.json;
//   signals    the child starts with SIGINT and SIGTERM blocked until its handlers are set; on
//              either it checkpoints at the next step and exits 128 + signal with its manifest
//              "interrupted" (core/interrupt.hpp); it dies with the sweep (PR_SET_PDEATHSIG);
//   exit codes 0 with manifest "completed" = done; 130 / 143 or death by SIGINT / SIGTERM =
//              interrupted (resumed by the next attempt); anything else = failed, recorded with
//              its code or signal (cli/main.cpp lists the codes: 2 config, 3 input, 4 numerical).
#pragma once

#include <filesystem>
#include <vector>

#include "sweeps/sweep_plan.hpp"

namespace cadenza {

struct SweepOptions {
  int jobs = 1;
  Shard shard;
  bool retry_failed = false;
  std::filesystem::path cadenza_binary;  // the workers run `<binary> train ...`
};

// One unit of a sweep's work: train plan.runs[run] to its end, or, with until_epoch = E > 0, until
// it has trained E epochs (`cadenza train ... --pause-after-epoch E`, the rungs of a search). Such
// a task is done when the run is completed or its metrics have valid rows through epoch E; the
// next task of the same run resumes it from its checkpoint.
struct SweepTask {
  size_t run = 0;
  int64_t until_epoch = 0;
};

struct SweepResult {
  std::vector<size_t> runs;    // the tasks' runs (indices into plan.runs), plan order
  std::vector<size_t> done;    // completed, now or before
  std::vector<size_t> failed;  // failed, now or before (not retried)
  size_t attempts = 0;         // attempts this process started

  bool complete() const { return done.size() == runs.size(); }
};

// Progress goes to stderr, one line per event. When SIGINT or SIGTERM arrives (the caller installs
// core/interrupt.hpp's handlers), no new attempt starts, the running workers are sent the signal,
// checkpoint and stop, and Interrupted is thrown once they have all exited; their runs are left
// "partial" for the next sweep to resume. Throws Error when a worker cannot be started or
// the sweep folder cannot be written.
SweepResult run_sweep(const SweepPlan& plan, const std::filesystem::path& folder,
                      const SweepOptions& options);

// The same for an explicit list of tasks (one per run; options.shard is not applied): what
// run_sweep does with one to-the-end task for each run of the shard.
SweepResult run_sweep_tasks(const SweepPlan& plan, const std::filesystem::path& folder,
                            const std::vector<SweepTask>& tasks, const SweepOptions& options);

}  // namespace cadenza
