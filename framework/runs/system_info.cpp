#include "runs/system_info.hpp"

#include <fmt/format.h>
#include <oneapi/tbb/version.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>

#include "core/engine.hpp"
#include "core/hdf5.hpp"

namespace cadenza {
namespace {

// Runs a shell command and returns its stdout with trailing whitespace removed ("" on failure).
std::string command_output(const std::string& command) {
  FILE* pipe = ::popen((command + " 2>/dev/null").c_str(), "r");
  if (pipe == nullptr) return "";
  std::string output;
  std::array<char, 256> buffer{};
  while (std::fgets(buffer.data(), buffer.size(), pipe) != nullptr)
    output += buffer.data();
  if (::pclose(pipe) != 0) return "";
  while (!output.empty() && std::isspace(static_cast<unsigned char>(output.back())))
    output.pop_back();
  return output;
}

std::string cpu_model_name() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.starts_with("model name")) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  }
  return "unknown";
}

}  // namespace

SystemInfo collect_system_info() {
  SystemInfo info;
  info.cadenza_version = CADENZA_VERSION;
  info.compiler = CADENZA_COMPILER;
  const std::string git = fmt::format("git -C '{}' ", CADENZA_PROJECT_DIR);
  info.git_commit = command_output(git + "rev-parse HEAD");
  if (info.git_commit.empty()) info.git_commit = "unknown";
  info.git_dirty = !command_output(git + "status --porcelain --untracked-files=no").empty();
  info.onednn_version = onednn_version();
  info.onednn_isa = onednn_isa();
  info.tbb_version = TBB_runtime_version();
  info.hdf5_version = hdf5::library_version();
  info.cpu_model = cpu_model_name();
  std::array<char, 256> host{};
  info.host = ::gethostname(host.data(), host.size() - 1) == 0 ? host.data() : "unknown";
  return info;
}

}  // namespace cadenza
