// Test support: a program started in the background as the leader of a new process group (so
// that a test can signal it alone or with everything it started), its stdout and stderr going to
// files in a folder.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <filesystem>
#include <string>
#include <vector>

#include "support/process.hpp"

extern char** environ;

namespace cadenza::testing {

class BackgroundProcess {
 public:
  // argv[0] is found on PATH when it has no '/'; output goes to `dir`/LABEL.out and LABEL.err.
  BackgroundProcess(std::vector<std::string> argv, const std::filesystem::path& dir,
                    const std::string& label)
      : out_(dir / (label + ".out")), err_(dir / (label + ".err")) {
    std::vector<char*> words;
    for (auto& word : argv)
      words.push_back(word.data());
    words.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attributes, 0);
    const int error = posix_spawnp(&pid_, words[0], &actions, &attributes, words.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    if (error != 0) {
      ADD_FAILURE() << "cannot start " << argv[0] << ": " << error;
      pid_ = -1;
    }
  }
  ~BackgroundProcess() {
    if (pid_ > 0 && !reaped_) {
      ::kill(-pid_, SIGKILL);
      wait();
    }
  }
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  pid_t pid() const { return pid_; }
  // SIGKILL to the whole process group: the program and everything it started.
  void kill_group() const { ::kill(-pid_, SIGKILL); }
  // SIGKILL to the program alone.
  void kill_leader() const { ::kill(pid_, SIGKILL); }
  // Exit code, or 128 + the signal that killed it.
  int wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    reaped_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  std::string out() const { return slurp(out_); }
  std::string err() const { return slurp(err_); }

 private:
  std::filesystem::path out_, err_;
  pid_t pid_ = -1;
  bool reaped_ = false;
};

}  // namespace cadenza::testing
