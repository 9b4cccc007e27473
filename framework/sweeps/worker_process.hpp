// A sweep's worker: one `cadenza train` child process per run attempt.
//
// The child dies with the sweep that started it (prctl(PR_SET_PDEATHSIG, SIGKILL), checked
// against a parent that died before the call), stays in the sweep's process group (a terminal's
// Ctrl-C or `kill -- -PGID` reaches both), appends its stdout and stderr to the run's log, reads
// /dev/null as stdin, keeps exactly one of the parent's descriptors open (the run's lock, so the
// lock lives until the child is gone too), runs on the CPUs it is given, and starts with SIGINT and
// SIGTERM blocked until `cadenza train` has installed its handlers (core/interrupt.hpp).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace cadenza {

struct WorkerLaunch {
  std::vector<std::string> argv;  // argv[0] is the executable's path
  std::filesystem::path log;      // stdout and stderr are appended here
  std::vector<int> cpus;          // the child's CPU affinity; empty = the parent's
  int keep_descriptor = -1;       // a close-on-exec descriptor the child inherits anyway
};

// Starts the child and returns its pid. Must be called from a thread that outlives the child
// (PR_SET_PDEATHSIG follows the thread that forked). Throws Error naming the log or the failing
// call.
pid_t start_worker(const WorkerLaunch& launch);

// How a child ended, from a waitpid status.
struct WorkerExit {
  int exit_code = 0;  // when it exited
  int signal = 0;     // when a signal killed it (0 otherwise)

  bool success() const { return signal == 0 && exit_code == 0; }
  // "exit code 4 (numerical error)", "killed by signal 9 (SIGKILL)".
  std::string describe() const;
};

WorkerExit decode_wait_status(int wait_status);

// The CPUs this process may run on (sched_getaffinity), ascending.
std::vector<int> allowed_cpus();

}  // namespace cadenza
