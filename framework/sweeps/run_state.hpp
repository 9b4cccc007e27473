// Where a run of a sweep stands, read from its files (sweeps/sweep_plan.hpp gives the
// layout). In order of precedence:
//   running  another process (or this one) holds the run's lock
//   done     the run directory's manifest says "completed"
//   failed   the sweep recorded a failed attempt (exit code, signal, log), or the manifest says
//            "failed"
//   partial  the run directory has its config and a checkpoint: an attempt was interrupted, the
//            next one resumes from the checkpoint
//   pending  nothing to resume from (never started, or stopped before its first checkpoint)
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "sweeps/sweep_plan.hpp"

namespace cadenza {

enum class RunState { kDone, kRunning, kFailed, kPartial, kPending };

// "done", "running", "failed", "partial", "pending".
const char* state_name(RunState state);

// The files of one run inside a sweep folder.
struct RunFiles {
  std::filesystem::path run_dir;  // runs/<name>/<run id>
  std::filesystem::path lock;     // locks/<run id>.lock
  std::filesystem::path record;   // state/<run id>.json
  std::filesystem::path log;      // logs/<run id>.log
};

RunFiles run_files(const std::filesystem::path& sweep_folder, const PlannedRun& run);

struct RunStatus {
  RunState state = RunState::kPending;
  std::string detail;  // e.g. "test nll 9.6012", "exit code 4, log logs/<id>.log", "at step 90"
};

// The state of a run as seen from outside: "running" when its lock is held, else what its files
// say (read_run_status). `sweep_folder` makes log paths in details relative.
RunStatus probe_run(const RunFiles& files, const std::filesystem::path& sweep_folder);

// What the run's files say (done, failed, partial or pending), for the lock's holder.
RunStatus read_run_status(const RunFiles& files, const std::filesystem::path& sweep_folder);

// The sweep's record of a run (state/<run id>.json): {"run_id", "state": "running" | "completed"
// | "failed", "attempts", "sweep_pid", "worker_pid", "host", "started", "ended", "exit_code",
// "signal", "compute_cores", "command", "log", and "slurm_job" when the sweep ran in one}. Empty
// object when there is none or it is unreadable.
nlohmann::json read_run_record(const std::filesystem::path& record);
void write_run_record(const std::filesystem::path& record, const nlohmann::json& content);

// The step of the newest ckpt-<step>.h5 in the run's checkpoints/ folder, or -1 when none.
int64_t newest_checkpoint_step(const std::filesystem::path& run_dir);

// The highest epoch of the run's "valid" rows in metrics.jsonl: the epochs it has trained (0 when
// none).
int64_t trained_epochs(const std::filesystem::path& run_dir);

// The split "test" row of the run's metrics.jsonl, or null when there is none.
nlohmann::json test_metrics(const std::filesystem::path& run_dir);

}  // namespace cadenza
