#include "sweeps/sweep_runner.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/interrupt.hpp"
#include "runs/run_dir.hpp"
#include "runs/run_lock.hpp"
#include "sweeps/run_state.hpp"
#include "sweeps/sweep_threads.hpp"
#include "sweeps/worker_process.hpp"

namespace cadenza {
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;
// How often a sweep looks again at runs other processes hold, while it waits for them.
constexpr auto kPollInterval = std::chrono::milliseconds(200);

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0) return "unknown";
  return name;
}

// The Slurm job this sweep runs in ("<array job>_<task>" for an array task), or "" outside Slurm.
std::string slurm_job() {
  const char* array_job = std::getenv("SLURM_ARRAY_JOB_ID");
  const char* task = std::getenv("SLURM_ARRAY_TASK_ID");
  if (array_job != nullptr && task != nullptr) return fmt::format("{}_{}", array_job, task);
  const char* job = std::getenv("SLURM_JOB_ID");
  return job == nullptr ? "" : job;
}

// A worker's command as the run record keeps it: the program by name, not by the binary's
// path on this machine (records are committed; the manifest names the commit).
std::string recorded_command(const std::vector<std::string>& argv) {
  return fmt::format("cadenza {}", fmt::join(argv.begin() + 1, argv.end(), " "));
}

struct Attempt {
  size_t index = 0;
  int slot = 0;
  RunLock lock;
  nlohmann::json record;
  Clock::time_point start;
};

class Runner {
 public:
  Runner(const SweepPlan& plan, fs::path folder, const std::vector<SweepTask>& tasks,
         const SweepOptions& options)
      : plan_(plan),
        folder_(std::move(folder)),
        options_(options),
        allowed_(allowed_cpus()),
        host_(host_name()),
        slurm_job_(slurm_job()) {
    for (int slot = options_.jobs - 1; slot >= 0; --slot)
      free_slots_.push_back(slot);
    for (const SweepTask& task : tasks) {
      result_.runs.push_back(task.run);
      until_epoch_[task.run] = task.until_epoch;
    }
    std::sort(result_.runs.begin(), result_.runs.end());
  }

  SweepResult run() {
    while (settled_.size() < result_.runs.size()) {
      if (const int signal = interrupt_signal(); signal != 0) stop_on_signal(signal);
      start_what_we_can();
      if (settled_.size() == result_.runs.size()) break;
      if (active_.empty()) {
        // Every run left is being trained by another process: wait for it to finish (or die).
        std::this_thread::sleep_for(kPollInterval);
        continue;
      }
      // Polls, so that runs other processes release are picked up and a signal is seen within
      // one poll interval.
      wait_for_a_worker();
    }
    std::sort(result_.done.begin(), result_.done.end());
    std::sort(result_.failed.begin(), result_.failed.end());
    return result_;
  }

 private:
  // Starts attempts until the slots are full (runs other processes hold are skipped).
  void start_what_we_can() {
    for (const size_t index : result_.runs) {
      if (free_slots_.empty()) break;
      if (settled_.contains(index) || is_active(index)) continue;
      consider(index);
    }
  }

  // SIGINT or SIGTERM reached the sweep: no new attempt starts; the workers get the signal (again,
  // when it went to the whole process group: they ignore the repeat), checkpoint and stop; the
  // sweep waits for them and stops too. Rerunning the sweep resumes them.
  [[noreturn]] void stop_on_signal(int signal) {
    const size_t stopping = active_.size();
    report_line(fmt::format("{} received: stopping {} running worker(s) at their next step",
                            signal_name(signal), stopping));
    for (const auto& [pid, attempt] : active_)
      ::kill(pid, signal);
    const size_t paused_before = paused_;
    while (!active_.empty())
      wait_for_a_worker();
    const size_t paused = paused_ - paused_before;
    throw Interrupted(
        signal,
        fmt::format("sweep {} stopped: {} run(s) checkpointed and left to resume{}; run "
                    "the same `cadenza sweep` command again to continue",
                    plan_.name, paused,
                    paused == stopping ? std::string()
                                       : fmt::format(" ({} ended before the signal reached them)",
                                                     stopping - paused)));
  }

  bool is_active(size_t index) const {
    return std::any_of(active_.begin(), active_.end(),
                       [index](const auto& entry) { return entry.second.index == index; });
  }

  // Takes the run's lock and skips or starts it; leaves it alone when another process holds it.
  void consider(size_t index) {
    const PlannedRun& run = plan_.runs[index];
    const RunFiles files = run_files(folder_, run);
    std::optional<RunLock> lock = RunLock::try_acquire(files.lock);
    if (!lock) return;
    const RunStatus status = read_run_status(files, folder_);
    if (status.state == RunState::kDone || reached_pause(index, files)) {
      settle(index, true);
      return;
    }
    if (status.state == RunState::kFailed && (!options_.retry_failed || retried_.contains(index))) {
      settle(index, false);
      report(index, "failed", status.detail + " (--retry-failed tries it again)");
      return;
    }
    if (status.state == RunState::kFailed) retried_.insert(index);
    launch(index, std::move(*lock), files);
  }

  // A task that stops at an epoch is done once the run has valid rows through that epoch.
  bool reached_pause(size_t index, const RunFiles& files) const {
    const int64_t until = until_epoch_.at(index);
    return until > 0 && trained_epochs(files.run_dir) >= until;
  }

  void launch(size_t index, RunLock lock, const RunFiles& files) {
    const PlannedRun& run = plan_.runs[index];
    const bool configured = fs::exists(files.run_dir / "config.json");
    std::vector<std::string> argv = {options_.cadenza_binary.string(), "train"};
    if (configured) {
      argv.insert(argv.end(), {"--resume", files.run_dir.string()});
    } else {
      argv.push_back(plan_.experiment.string());
      argv.insert(argv.end(), run.override_args.begin(), run.override_args.end());
      argv.insert(argv.end(), {"--runs-dir", (folder_ / "runs").string()});
      if (fs::exists(files.run_dir)) argv.push_back("--force");
    }
    if (const int64_t until = until_epoch_.at(index); until > 0) {
      argv.insert(argv.end(), {"--pause-after-epoch", std::to_string(until)});
    }
    const int slot = free_slots_.back();
    const CoreGrant grant =
        grant_cores(run.resolved.config.threads, configured ? recorded_cores(files.run_dir) : 0,
                    slot, options_.jobs, allowed_);

    Attempt attempt{index, slot, std::move(lock), read_run_record(files.record), Clock::now()};
    nlohmann::json& record = attempt.record;
    const int number = record.value("attempts", 0) + 1;
    for (const char* stale : {"ended", "seconds", "exit_code", "signal", "error", "slurm_job"})
      record.erase(stale);
    if (!slurm_job_.empty()) record["slurm_job"] = slurm_job_;
    record.update({{"run_id", run.run_id()},
                   {"state", "running"},
                   {"attempts", number},
                   {"sweep_pid", ::getpid()},
                   {"host", host_},
                   {"started", utc_timestamp()},
                   {"compute_cores", grant.cpus.size()},
                   {"command", recorded_command(argv)},
                   {"log", fs::relative(files.log, folder_).generic_string()}});
    write_run_record(files.record, record);
    fs::create_directories(files.log.parent_path());
    {
      std::ofstream log(files.log, std::ios::app);
      log << fmt::format(
          "===== cadenza sweep: attempt {} of run {} at {} (sweep pid {} on {}, {}): "
          "{}\n",
          number, run.run_id(), record["started"].get<std::string>(), ::getpid(), host_,
          grant.cpus.empty() ? std::string("every core")
                             : fmt::format("cores {}", fmt::join(grant.cpus, ",")),
          record["command"].get<std::string>());
    }
    const pid_t pid = start_worker({argv, files.log, grant.cpus, attempt.lock.descriptor()});
    free_slots_.pop_back();
    record["worker_pid"] = pid;
    write_run_record(files.record, record);
    ++result_.attempts;
    report(index, "start",
           fmt::format("{}{}, {}", configured ? "resuming" : "fresh",
                       number > 1 ? fmt::format(" (attempt {})", number) : "",
                       grant.cpus.empty() ? std::string("every core")
                                          : fmt::format("{} core(s)", grant.cpus.size())));
    if (!grant.note.empty()) report(index, "note", grant.note);
    active_.emplace(pid, std::move(attempt));
  }

  // Waits up to one poll interval for a worker to exit and records its outcome.
  void wait_for_a_worker() {
    const auto deadline = Clock::now() + kPollInterval;
    int status = 0;
    pid_t pid = -1;
    while (true) {
      pid = ::waitpid(-1, &status, WNOHANG);
      if (pid > 0) break;
      if (pid < 0 && errno != EINTR) {
        throw Error(
            fmt::format("cadenza sweep: waiting for workers failed: {}", std::strerror(errno)));
      }
      if (Clock::now() >= deadline) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const auto found = active_.find(pid);
    if (found == active_.end()) return;
    finish(found->second, decode_wait_status(status));
    free_slots_.push_back(found->second.slot);
    active_.erase(found);  // releases the run's lock
  }

  void finish(Attempt& attempt, const WorkerExit& exit) {
    const PlannedRun& run = plan_.runs[attempt.index];
    const RunFiles files = run_files(folder_, run);
    const std::string run_status = RunDirectory::status_of(files.run_dir);
    const bool paused =
        exit.success() && run_status == "paused" && reached_pause(attempt.index, files);
    const bool completed = exit.success() && (run_status == "completed" || paused);
    // A worker stopped by SIGINT or SIGTERM is neither done nor failed, whether it checkpointed
    // and exited 130 / 143 or died of the signal: the next attempt resumes it (outputs are
    // atomic, so nothing it wrote is half-written). The worker's own exit decides, not the run's
    // status: a run interrupted earlier keeps that status when a later attempt fails before
    // training (a config error, say), and that attempt must fail, not be retried forever.
    const bool interrupted = exit.signal == SIGINT || exit.signal == SIGTERM ||
                             exit.exit_code == 128 + SIGINT || exit.exit_code == 128 + SIGTERM;
    const double seconds = std::chrono::duration<double>(Clock::now() - attempt.start).count();
    nlohmann::json& record = attempt.record;
    record.update({{"state", paused        ? "paused"
                             : completed   ? "completed"
                             : interrupted ? "interrupted"
                                           : "failed"},
                   {"ended", utc_timestamp()},
                   {"seconds", seconds},
                   {"exit_code", exit.exit_code},
                   {"signal", exit.signal}});
    if (exit.success() && !completed) {
      record["error"] = fmt::format(
          "the worker exited 0 but {} is not completed (was the experiment file edited while the "
          "sweep ran? its runs' ids would have changed)",
          files.run_dir.string());
    }
    write_run_record(files.record, record);
    if (interrupted) {
      ++paused_;
      report(attempt.index, "paused", exit.describe() + ", checkpointed; the next attempt resumes");
      return;
    }
    settle(attempt.index, completed);
    if (paused) {
      report(attempt.index, "paused",
             fmt::format("after epoch {} in {:.1f} s", trained_epochs(files.run_dir), seconds));
    } else if (completed) {
      const auto test = test_metrics(files.run_dir);
      report(attempt.index, "done",
             fmt::format("in {:.1f} s{}", seconds,
                         test.is_object() && test.contains("nll")
                             ? fmt::format(", test nll {:.4f}", test["nll"].get<double>())
                             : std::string()));
    } else {
      report(attempt.index, "FAILED",
             fmt::format(
                 "{}; log {}",
                 record.contains("error") ? record["error"].get<std::string>() : exit.describe(),
                 files.log.string()));
    }
  }

  void settle(size_t index, bool done) {
    settled_.insert(index);
    (done ? result_.done : result_.failed).push_back(index);
  }

  void report_line(const std::string& text) const {
    fmt::print(stderr, "[sweep {} {}/{}] {}\n", plan_.name, settled_.size(), result_.runs.size(),
               text);
    std::fflush(stderr);
  }

  void report(size_t index, const std::string& event, const std::string& detail) const {
    const PlannedRun& run = plan_.runs[index];
    fmt::print(stderr, "[sweep {} {}/{}] {:<6} {} ({}, seed {}){}{}\n", plan_.name, settled_.size(),
               result_.runs.size(), event, run.run_id(), run.variant, run.resolved.config.seed,
               detail.empty() ? "" : ": ", detail);
    std::fflush(stderr);
  }

  const SweepPlan& plan_;
  const fs::path folder_;
  const SweepOptions& options_;
  const std::vector<int> allowed_;
  const std::string host_;
  const std::string slurm_job_;
  std::vector<int> free_slots_;
  std::map<pid_t, Attempt> active_;
  std::set<size_t> settled_;
  size_t paused_ = 0;  // attempts stopped by a signal, to be resumed
  std::set<size_t> retried_;
  std::map<size_t, int64_t> until_epoch_;  // run index -> its task's pause epoch (0: to the end)
  SweepResult result_;
};

}  // namespace

SweepResult run_sweep_tasks(const SweepPlan& plan, const fs::path& folder,
                            const std::vector<SweepTask>& tasks, const SweepOptions& options) {
  if (options.jobs < 1) {
    throw UsageError(fmt::format("--jobs {}: must be at least 1", options.jobs));
  }
  Runner runner(plan, folder, tasks, options);
  return runner.run();
}

SweepResult run_sweep(const SweepPlan& plan, const fs::path& folder, const SweepOptions& options) {
  std::vector<SweepTask> tasks;
  for (const size_t index : shard_runs(plan, options.shard))
    tasks.push_back({index, 0});
  return run_sweep_tasks(plan, folder, tasks, options);
}

}  // namespace cadenza
