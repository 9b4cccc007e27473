// What `cadenza train` does when things go wrong, through the real binary on real JSB data:
//   - configs a user could write that are wrong (numbers out of any range, nesting to any depth,
//     a dataset that does not exist, a model too large for the machine) exit 2 and write nothing;
//   - SIGTERM and SIGINT checkpoint at the next step, mark the run interrupted, exit 143 / 130,
//     and `--resume` continues bit-identically;
//   - a read-only runs folder is refused before training;
//   - a disk that fills up while checkpointing gives a clear error, exit 1, and leaves the
//     previous checkpoints intact and resumable;
//   - the memory estimate that guards against OOM kills bounds the measured peak.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "support/process.hpp"
#include "support/wait.hpp"
#include "train/checkpoint_format.hpp"
#include "train/checkpoint_store.hpp"
#include "train/train_run_support.hpp"

extern char** environ;

namespace cadenza {
namespace {

using testing::expect_same_weights;
using testing::metrics_without_timings;
using testing::run_cadenza;
using testing::ScratchDir;
using testing::smoke_experiment;
namespace fs = std::filesystem;

using testing::quoted;

nlohmann::json manifest_of(const fs::path& run_dir) {
  return nlohmann::json::parse(testing::slurp(run_dir / "manifest.json"));
}

// The one run directory under runs/<name>/.
fs::path only_run(const fs::path& runs, const std::string& name) {
  return fs::directory_iterator(runs / name)->path();
}

// `cadenza train CONFIG --runs-dir RUNS` as a child process (output to `log`).
pid_t spawn_train(const fs::path& config, const fs::path& runs, const fs::path& log) {
  const std::string binary = CADENZA_BINARY, config_arg = config.string(), runs_arg = runs.string();
  std::vector<char*> argv = {const_cast<char*>(binary.c_str()),     const_cast<char*>("train"),
                             const_cast<char*>(config_arg.c_str()), const_cast<char*>("--runs-dir"),
                             const_cast<char*>(runs_arg.c_str()),   nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t child = 0;
  const int rc = posix_spawn(&child, binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  EXPECT_EQ(rc, 0) << "posix_spawn " << binary;
  return child;
}

// Waits until some ckpt-*.h5 exists under `folder` (a run has made progress), with a generous
// deadline; never a fixed sleep.
bool wait_for_checkpoint(const fs::path& folder) {
  return testing::wait_until(
      [&folder] {
        std::error_code ignored;
        for (auto it = fs::recursive_directory_iterator(folder, ignored);
             it != fs::recursive_directory_iterator(); it.increment(ignored)) {
          const std::string name = it->path().filename().string();
          if (name.starts_with("ckpt-") && name.ends_with(".h5")) return true;
        }
        return false;
      },
      std::chrono::minutes(3));
}

// --- bad configs: exit 2, nothing written ---------------------------------------------------

TEST(TrainFaults, WrongConfigsExitWith2NamingTheKeyAndWriteNothing) {
  ScratchDir dir;
  std::string deep_object, deep_array;
  for (int i = 0; i < 5000; ++i) {
    deep_object += R"({"a":)";
    deep_array += "[";
  }
  deep_object += "1" + std::string(5000, '}');
  deep_array += "1" + std::string(5000, ']');
  std::ofstream(dir / "deep_object.json") << deep_object;
  std::ofstream(dir / "deep_array.json") << R"({"description": )" << deep_array << "}";
  std::string long_path = "model";
  for (int i = 0; i < 200; ++i)
    long_path += ".x";
  struct Case {
    std::string arguments;
    std::vector<std::string> expected;  // every one must appear in stderr
  };
  const std::vector<Case> cases = {
      {quoted(smoke_experiment(dir, "huge_epochs", R"(, "train": {"epochs": 1e400})")),
       {"huge_epochs.json", "key 'train.epochs'", "number overflow"}},
      {quoted(smoke_experiment(dir, "tiny_lr", R"(, "train": {"optimizer": {"lr": -1e999}})")),
       {"tiny_lr.json", "key 'train.optimizer.lr'", "number overflow"}},
      {quoted(smoke_experiment(dir, "big_int", R"(, "seed": 123456789012345678901234567890)")),
       {"big_int.json", "seed"}},
      {quoted(smoke_experiment(dir, "ok", "")) + " train.epochs=1e400",
       {"override 'train.epochs=1e400'", "number overflow"}},
      {quoted(smoke_experiment(dir, "ok", "")) + " " + long_path + "=1", {"nested deeper than"}},
      {quoted(dir / "deep_object.json"), {"deep_object.json", "nested deeper than 64"}},
      {quoted(dir / "deep_array.json"), {"deep_array.json", "key 'description", "nested deeper"}},
      {quoted(smoke_experiment(dir, "syntax", R"(, "train": {"epochs": 3,}})")),
       {"syntax.json", "key 'train", "invalid JSON"}},
      {quoted(smoke_experiment(dir, "no_such_set", R"(, "data": {"dataset": "NoSuchSet"})")),
       {"no_such_set.json", "data.dataset = \"NoSuchSet\"", "JSB_Chorales"}},
      {quoted(
           smoke_experiment(dir, "no_such_file",
                            R"(, "data": {"dataset": ")" + (dir / "absent.h5").string() + "\"}")),
       {"no_such_file.json", "absent.h5 does not exist"}},
      {quoted(smoke_experiment(dir, "too_big",
                               R"(, "model": {"hidden_size": 4096, "layers": 8},
                            "data": {"batch_size": 512})")),
       {"too_big.json", "needs an estimated", "is available", "model.hidden_size (4096)"}},
  };
  for (const auto& [arguments, expected] : cases) {
    const auto runs = dir / "runs";
    const auto result = run_cadenza("train " + arguments + " --runs-dir " + quoted(runs));
    EXPECT_EQ(result.exit_code, 2) << arguments << "\n" << result.err;
    for (const auto& text : expected)
      EXPECT_NE(result.err.find(text), std::string::npos) << text << " missing from " << result.err;
    EXPECT_EQ(result.err.find("json.exception"), std::string::npos) << result.err;
    EXPECT_FALSE(fs::exists(runs)) << arguments << " wrote " << runs;
  }
}

// --- signals ------------------------------------------------------------------------------

// SIGTERM (Slurm's preemption signal) and SIGINT (Ctrl-C) mid-run: a checkpoint at the next step,
// manifest "interrupted", exit 128 + signal, and a resume bit-identical to an uninterrupted run.
// `config` trains a run named "signalled".
void expect_signals_checkpoint_and_resume_bit_identically(const ScratchDir& dir,
                                                          const fs::path& config) {
  const auto reference =
      run_cadenza("train " + quoted(config) + " --runs-dir " + quoted(dir / "reference"));
  ASSERT_EQ(reference.exit_code, 0) << reference.err;
  const auto reference_dir = only_run(dir / "reference", "signalled");
  for (const int signal : {SIGTERM, SIGINT}) {
    const auto runs = dir / ("runs" + std::to_string(signal));
    const auto log = dir / ("log" + std::to_string(signal));
    const pid_t child = spawn_train(config, runs, log);
    ASSERT_TRUE(wait_for_checkpoint(runs)) << testing::slurp(log);
    ASSERT_EQ(::kill(child, signal), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status)) << "killed instead of stopping: " << testing::slurp(log);
    EXPECT_EQ(WEXITSTATUS(status), 128 + signal) << testing::slurp(log);
    const std::string output = testing::slurp(log);
    EXPECT_NE(output.find("--resume"), std::string::npos) << output;
    const auto run_dir = only_run(runs, "signalled");
    const auto manifest = manifest_of(run_dir);
    ASSERT_EQ(manifest["status"], "interrupted") << manifest.dump(2);
    const auto resumed = run_cadenza("train --resume " + quoted(run_dir));
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
    EXPECT_EQ(metrics_without_timings(run_dir), metrics_without_timings(reference_dir))
        << "signal " << signal;
    expect_same_weights(run_dir, reference_dir);
    EXPECT_EQ(manifest_of(run_dir)["status"], "completed");
  }
}

TEST(TrainFaults, SignalsCheckpointAndResumeBitIdentically) {
  ScratchDir dir;
  expect_signals_checkpoint_and_resume_bit_identically(
      dir, smoke_experiment(dir, "signalled",
                            R"(, "train": {"epochs": 4}, "model": {"hidden_size": 48})"));
}

// A token model stopped mid-epoch saves the epoch's categorical metric sums with its checkpoint.
TEST(TrainFaults, TokenModelSignalsCheckpointAndResumeBitIdentically) {
  ScratchDir dir;
  expect_signals_checkpoint_and_resume_bit_identically(
      dir, testing::melody_experiment(dir, "signalled",
                                      R"(, "train": {"epochs": 4}, "model": {"hidden_size": 48})"));
}

// A stream of SIGTERMs (a signal arrives twice when it goes to the process group and a sweep
// forwards it; a supervisor may repeat it): the run still stops at a safe point with exit 143,
// checkpointed, and resumes. On one compute thread, oneDNN's kernels run on the thread a handler
// would interrupt: before the signals had a thread of their own, 9 of 15 such runs aborted with
// heap corruption (core/interrupt.hpp).
TEST(TrainFaults, AFloodOfSignalsStillStopsAtASafePoint) {
  ScratchDir dir;
  const auto config = smoke_experiment(dir, "flooded",
                                       R"(, "train": {"epochs": 12}, "model": {"hidden_size": 64},
                          "threads": {"compute": 1})");
  for (int attempt = 0; attempt < 3; ++attempt) {
    const auto runs = dir / ("runs" + std::to_string(attempt));
    const auto log = dir / ("log" + std::to_string(attempt));
    const pid_t child = spawn_train(config, runs, log);
    ASSERT_TRUE(wait_for_checkpoint(runs)) << testing::slurp(log);
    int status = 0;
    pid_t ended = 0;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while ((ended = ::waitpid(child, &status, WNOHANG)) == 0 &&
           std::chrono::steady_clock::now() < give_up) {
      ::kill(child, SIGTERM);
    }
    ASSERT_EQ(ended, child) << "still running after 60 s of SIGTERM: " << testing::slurp(log);
    ASSERT_TRUE(WIFEXITED(status))
        << "killed by signal " << WTERMSIG(status) << ": " << testing::slurp(log);
    EXPECT_EQ(WEXITSTATUS(status), 128 + SIGTERM) << testing::slurp(log);
    const auto run_dir = only_run(runs, "flooded");
    EXPECT_EQ(manifest_of(run_dir)["status"], "interrupted");
    const auto resumed = run_cadenza("train --resume " + quoted(run_dir));
    EXPECT_EQ(resumed.exit_code, 0) << resumed.err;
  }
}

// SIGTERM to a sweep alone (as `kill PID` sends it): no new run starts, the running workers are
// told, checkpoint and stop, the sweep exits 143; the same command then finishes every run, with
// the metrics of a sweep that was never stopped. The runs are long enough (12 epochs) that the
// signal, sent after the first checkpoint, finds both workers training.
TEST(TrainFaults, SignalledSweepStopsItsWorkersAndTheNextSweepResumesThem) {
  ScratchDir dir;
  const auto experiment_file = smoke_experiment(
      dir, "signalled_sweep", R"(, "train": {"epochs": 12}, "sweep": {"grid": {"seed": [1, 2]}})");
  const std::string command = "sweep " + quoted(experiment_file) + " --jobs 2 --sweeps-dir ";
  const auto reference = run_cadenza(command + quoted(dir / "reference"));
  ASSERT_EQ(reference.exit_code, 0) << reference.err;

  const std::string binary = CADENZA_BINARY, experiment_arg = experiment_file.string(),
                    sweeps_arg = (dir / "stopped").string();
  std::vector<char*> argv = {const_cast<char*>(binary.c_str()),
                             const_cast<char*>("sweep"),
                             const_cast<char*>(experiment_arg.c_str()),
                             const_cast<char*>("--jobs"),
                             const_cast<char*>("2"),
                             const_cast<char*>("--sweeps-dir"),
                             const_cast<char*>(sweeps_arg.c_str()),
                             nullptr};
  const auto log = dir / "sweep.log";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t sweep = 0;
  ASSERT_EQ(posix_spawn(&sweep, binary.c_str(), &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  ASSERT_TRUE(wait_for_checkpoint(dir / "stopped")) << testing::slurp(log);
  ASSERT_EQ(::kill(sweep, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(sweep, &status, 0), sweep);
  ASSERT_TRUE(WIFEXITED(status)) << testing::slurp(log);
  const std::string output = testing::slurp(log);
  ASSERT_EQ(WEXITSTATUS(status), 143) << output;
  EXPECT_NE(output.find("stopped: 2 run(s) checkpointed and left to resume;"), std::string::npos)
      << output;
  EXPECT_EQ(output.find("FAILED"), std::string::npos) << output;

  const auto resumed = run_cadenza(command + quoted(dir / "stopped"));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("resuming"), std::string::npos) << resumed.err;
  const auto runs = dir / "reference" / "signalled_sweep" / "runs" / "signalled_sweep";
  int compared = 0;
  for (const auto& run : fs::directory_iterator(runs)) {
    const auto other =
        dir / "stopped" / "signalled_sweep" / "runs" / "signalled_sweep" / run.path().filename();
    EXPECT_EQ(metrics_without_timings(other), metrics_without_timings(run.path())) << other;
    ++compared;
  }
  EXPECT_EQ(compared, 2);
}

// --- the runs folder -------------------------------------------------------------------------

bool is_root() {
  return ::geteuid() == 0;
}

// A tmpfs of `bytes` mounted at `folder` (root only), unmounted when the object dies.
class TmpfsMount {
 public:
  TmpfsMount(const fs::path& folder, int64_t bytes, bool read_only) : folder_(folder) {
    fs::create_directories(folder);
    const std::string options = "size=" + std::to_string(bytes);
    mounted_ =
        ::mount("tmpfs", folder.c_str(), "tmpfs", read_only ? MS_RDONLY : 0, options.c_str()) == 0;
    error_ = mounted_ ? "" : std::strerror(errno);
  }
  ~TmpfsMount() {
    if (mounted_) ::umount2(folder_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

 private:
  fs::path folder_;
  bool mounted_ = false;
  std::string error_;
};

// A read-only results folder is refused before training, with the reason, and nothing written.
// As root a read-only tmpfs (root ignores permissions); otherwise a folder without write
// permission.
TEST(TrainFaults, ReadOnlyRunsFolderIsRefusedBeforeTraining) {
  ScratchDir dir;
  const auto runs = dir / "readonly";
  std::optional<TmpfsMount> mount;
  if (is_root()) {
    mount.emplace(runs, int64_t{1} << 20, true);
    ASSERT_TRUE(mount->mounted()) << "mount tmpfs: " << mount->error();
  } else {
    fs::create_directories(runs);
    fs::permissions(runs, fs::perms::owner_read | fs::perms::owner_exec);
  }
  const auto result = run_cadenza("train " + quoted(smoke_experiment(dir, "ro", "")) +
                                  " --runs-dir " + quoted(runs));
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_NE(result.err.find("is not writable"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find(is_root() ? "Read-only file system" : "Permission denied"),
            std::string::npos)
      << result.err;
  EXPECT_EQ(result.err.find("epoch 1"), std::string::npos) << "trained before failing";
  EXPECT_TRUE(fs::is_empty(runs));
  if (!is_root()) fs::permissions(runs, fs::perms::owner_all);
}

// A disk that fills up while checkpointing: a clear error naming the file, exit 1; the
// checkpoints written before it stay valid, and the run resumes from them (elsewhere, once there
// is space) to the same result as an uninterrupted run. Needs root to mount the small tmpfs.
TEST(TrainFaults, DiskFullWhileCheckpointingKeepsThePreviousCheckpoint) {
  if (!is_root()) GTEST_SKIP() << "mounting a small tmpfs needs root (CI runs as root)";
  ScratchDir dir;
  // 45k parameters: checkpoints of about 0.55 MB, each kept (keep_last 100); the start-up check
  // asks for room for two (with 1 MiB of slack each), so 4 MB passes it and fills up at the
  // seventh or eighth of the nine epochs' checkpoints.
  const auto config = smoke_experiment(
      dir, "full",
      R"(, "model": {"hidden_size": 64}, "train": {"epochs": 9, "checkpoint": {"keep_last": 100}})");
  const auto reference =
      run_cadenza("train " + quoted(config) + " --runs-dir " + quoted(dir / "reference"));
  ASSERT_EQ(reference.exit_code, 0) << reference.err;
  const auto runs = dir / "small";
  {
    TmpfsMount mount(runs, int64_t{4} << 20, false);
    ASSERT_TRUE(mount.mounted()) << "mount tmpfs: " << mount.error();
    const auto result = run_cadenza("train " + quoted(config) + " --runs-dir " + quoted(runs));
    EXPECT_EQ(result.exit_code, 1) << result.err;
    EXPECT_NE(result.err.find("No space left on device"), std::string::npos) << result.err;
    const auto run_dir = only_run(runs, "full");
    CheckpointStore store(run_dir / "checkpoints", 100);
    const auto kept = store.list();
    ASSERT_GE(kept.size(), 2u) << "the disk filled before two checkpoints: enlarge the tmpfs";
    for (const auto& checkpoint : kept)
      EXPECT_NO_THROW(load_checkpoint(checkpoint)) << checkpoint;
    for (const auto& entry : fs::recursive_directory_iterator(run_dir))
      EXPECT_FALSE(entry.path().filename().string().ends_with(".tmp")) << entry.path();
    fs::copy(runs, dir / "moved", fs::copy_options::recursive);
  }
  const auto moved = only_run(dir / "moved", "full");
  const auto resumed = run_cadenza("train --resume " + quoted(moved));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  const auto reference_dir = only_run(dir / "reference", "full");
  EXPECT_EQ(metrics_without_timings(moved), metrics_without_timings(reference_dir));
  expect_same_weights(moved, reference_dir);
}

// --- memory ------------------------------------------------------------------------------------

// The estimate that refuses a run too large for the machine is an upper bound of what training
// uses: the child's peak resident memory stays below the manifest's memory_estimate_bytes, for an
// lm and an encoder-decoder with additive attention.
TEST(TrainFaults, MemoryEstimateBoundsThePeakResidentMemory) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // The test binary is built like build-*/cadenza (scripts/test.sh --sanitize), whose resident
  // memory then includes the sanitizer's shadow memory, redzones and freed-memory quarantine.
  GTEST_SKIP() << "a sanitizer build's resident memory is not what the estimate bounds";
#endif
  ScratchDir dir;
  const std::vector<std::pair<std::string, std::string>> variants = {
      {"lm", R"(, "model": {"hidden_size": 256, "layers": 2}, "data": {"batch_size": 32})"},
      {"additive", R"(, "model": {"type": "seq2seq", "attention": "additive", "hidden_size": 256,
                      "layers": 2}, "data": {"framing": "segments", "batch_size": 32})"},
  };
  for (const auto& [name, extra] : variants) {
    const auto config =
        smoke_experiment(dir, name, extra + R"(, "train": {"epochs": 1, "max_steps": 3})");
    const auto runs = dir / ("runs_" + name);
    const auto log = dir / ("log_" + name);
    const pid_t child = spawn_train(config, runs, log);
    int status = 0;
    struct rusage usage {};
    ASSERT_EQ(::wait4(child, &status, 0, &usage), child);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << testing::slurp(log);
    const int64_t peak = static_cast<int64_t>(usage.ru_maxrss) * 1024;
    const auto manifest = manifest_of(only_run(runs, name));
    const int64_t estimate = manifest["memory_estimate_bytes"].get<int64_t>();
    EXPECT_GT(manifest["parameters"].get<int64_t>(), 0);
    EXPECT_LE(peak, estimate) << name << ": the estimate is not an upper bound";
    EXPECT_LE(estimate, 4 * peak) << name << ": the estimate is too loose to be useful";
  }
}

}  // namespace
}  // namespace cadenza
