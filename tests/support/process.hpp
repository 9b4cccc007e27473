// Test support: run a command (usually build/cadenza) and capture its exit code and output, and
// make scratch directories that clean up after themselves.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

namespace cadenza::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

inline std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// A fresh directory under the system temp dir, removed when the object dies.
class ScratchDir {
 public:
  ScratchDir() {
    std::random_device entropy;
    path_ = std::filesystem::temp_directory_path() /
            ("cadenza-test-" + std::to_string(entropy()) + std::to_string(entropy()));
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// Runs `command` through /bin/sh with stdout and stderr captured to files in a scratch dir.
inline CommandResult run_shell(const std::string& command) {
  ScratchDir scratch;
  const auto out_path = scratch / "stdout";
  const auto err_path = scratch / "stderr";
  const std::string full =
      command + " >'" + out_path.string() + "' 2>'" + err_path.string() + "' </dev/null";
  const int status = std::system(full.c_str());
  CommandResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = slurp(out_path);
  result.err = slurp(err_path);
  return result;
}

// A path in single quotes, for the commands of run_shell and run_cadenza (test paths hold no
// quote).
inline std::string quoted(const std::filesystem::path& path) {
  return "'" + path.string() + "'";
}

// Runs build/cadenza with `arguments` (already shell-quoted where needed).
inline CommandResult run_cadenza(const std::string& arguments) {
  return run_shell(std::string("'") + CADENZA_BINARY + "' " + arguments);
}

inline std::filesystem::path source_dir() {
  return CADENZA_SOURCE_DIR;
}
inline std::filesystem::path shared_dir() {
  return source_dir() / ".." / "shared";
}

}  // namespace cadenza::testing
