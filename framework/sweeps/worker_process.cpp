#include "sweeps/worker_process.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.hpp"

namespace cadenza {

pid_t start_worker(const WorkerLaunch& launch) {
  if (launch.argv.empty()) throw Error("start_worker: empty argv");
  // Everything the child needs is prepared before fork: after it, only async-signal-safe calls.
  std::vector<char*> argv;
  for (const auto& word : launch.argv)
    argv.push_back(const_cast<char*>(word.c_str()));
  argv.push_back(nullptr);
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  for (const int cpu : launch.cpus)
    CPU_SET(cpu, &cpus);
  const int log = ::open(launch.log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) {
    throw Error(fmt::format("cannot open the worker log {}: {}", launch.log.string(),
                            std::strerror(errno)));
  }
  const int null_input = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  // The worker starts with SIGINT and SIGTERM blocked (the mask survives exec) and unblocks them
  // once its handlers are in place (core/interrupt.hpp), so a stop signal that arrives while it
  // starts up is held, then handled, instead of killing it half-way. They are blocked before the
  // fork, not in the child: a signal the sweep forwards between fork and exec would otherwise run
  // the sweep's own handler in the child, and the worker, never told, would train on.
  sigset_t stop_signals, previous_mask;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  ::pthread_sigmask(SIG_BLOCK, &stop_signals, &previous_mask);
  const pid_t parent = ::getpid();
  const pid_t child = ::fork();
  if (child == 0) {
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) ::_exit(126);
    ::dup2(log, STDOUT_FILENO);
    ::dup2(log, STDERR_FILENO);
    if (null_input >= 0) ::dup2(null_input, STDIN_FILENO);
    if (launch.keep_descriptor >= 0) ::fcntl(launch.keep_descriptor, F_SETFD, 0);
    if (!launch.cpus.empty()) ::sched_setaffinity(0, sizeof(cpus), &cpus);
    ::execv(argv[0], argv.data());
    constexpr char kMessage[] = "cadenza sweep: exec of the worker failed\n";
    [[maybe_unused]] const auto written = ::write(STDERR_FILENO, kMessage, sizeof(kMessage) - 1);
    ::_exit(127);
  }
  const int fork_error = errno;
  // A signal that reached the sweep meanwhile is delivered now, to the sweep's handler.
  ::pthread_sigmask(SIG_SETMASK, &previous_mask, nullptr);
  ::close(log);
  if (null_input >= 0) ::close(null_input);
  if (child < 0) {
    throw Error(fmt::format("cannot start a worker for {}: fork failed: {}", launch.argv.back(),
                            std::strerror(fork_error)));
  }
  return child;
}

std::string WorkerExit::describe() const {
  if (signal != 0) {
    const char* name = ::sigabbrev_np(signal);
    return fmt::format("killed by signal {}{}", signal,
                       name == nullptr ? "" : fmt::format(" (SIG{})", name));
  }
  switch (exit_code) {
    case 0:
      return "exit code 0";
    case 1:
      return "exit code 1 (internal or I/O failure)";
    case 2:
      return "exit code 2 (usage or config error)";
    case 3:
      return "exit code 3 (bad input file)";
    case 4:
      return "exit code 4 (numerical error)";
    case 126:
      return "exit code 126 (the sweep died while the worker started)";
    case 127:
      return "exit code 127 (the cadenza binary could not be executed)";
    default:
      return fmt::format("exit code {}", exit_code);
  }
}

WorkerExit decode_wait_status(int wait_status) {
  WorkerExit exit;
  if (WIFEXITED(wait_status)) exit.exit_code = WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) exit.signal = WTERMSIG(wait_status);
  return exit;
}

std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (::sched_getaffinity(0, sizeof(set), &set) == 0) {
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
    }
  }
  if (cpus.empty()) cpus.push_back(0);
  return cpus;
}

}  // namespace cadenza
