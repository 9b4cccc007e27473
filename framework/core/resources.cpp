#include "core/resources.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>

#include "core/atomic_file.hpp"
#include "core/error.hpp"

namespace cadenza {
namespace fs = std::filesystem;
namespace {

// The first existing folder among `path` and its ancestors ("." for a relative path whose
// ancestors do not exist).
fs::path nearest_existing(const fs::path& path) {
  fs::path probe = path.empty() ? fs::path(".") : path;
  std::error_code error;
  while (!fs::exists(probe, error)) {
    if (!probe.has_parent_path() || probe.parent_path() == probe) return ".";
    probe = probe.parent_path();
  }
  return probe;
}

// A cgroup v2 value of this process's cgroup ("max" and absent files read as no limit).
int64_t cgroup_value(const std::string& file) {
  std::ifstream cgroup_list("/proc/self/cgroup");
  std::string line, group;
  while (std::getline(cgroup_list, line)) {
    if (line.starts_with("0::")) group = line.substr(3);
  }
  if (group.empty()) return std::numeric_limits<int64_t>::max();
  std::ifstream in("/sys/fs/cgroup" + group + "/" + file);
  std::string text;
  if (!(in >> text) || text == "max") return std::numeric_limits<int64_t>::max();
  try {
    return std::stoll(text);
  } catch (const std::exception&) {
    return std::numeric_limits<int64_t>::max();
  }
}

}  // namespace

int64_t available_memory_bytes() {
  int64_t available = std::numeric_limits<int64_t>::max();
  std::ifstream meminfo("/proc/meminfo");
  std::string name, unit;
  int64_t kib = 0;
  while (meminfo >> name >> kib >> unit) {
    if (name == "MemAvailable:") available = kib * 1024;
  }
  const int64_t limit = cgroup_value("memory.max");
  if (limit != std::numeric_limits<int64_t>::max()) {
    available = std::min(available, std::max<int64_t>(0, limit - cgroup_value("memory.current")));
  }
  return available;
}

int64_t free_disk_bytes(const fs::path& path) {
  const fs::path existing = nearest_existing(path);
  struct statvfs stats {};
  if (::statvfs(existing.c_str(), &stats) != 0) {
    throw Error(fmt::format("cannot read the free space of {}: {}", existing.string(),
                            std::strerror(errno)));
  }
  return static_cast<int64_t>(stats.f_bavail) * static_cast<int64_t>(stats.f_frsize);
}

void require_writable(const fs::path& folder, const std::string& what) {
  const fs::path existing = nearest_existing(folder);
  const fs::path probe = temp_path_for(existing / "write-probe");
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) {
    const std::string where =
        existing == folder ? "in it" : "in its nearest existing ancestor " + existing.string();
    throw Error(fmt::format("{} {} is not writable: cannot create a file {}: {}", what,
                            folder.string(), where, std::strerror(errno)));
  }
  ::close(fd);
  ::unlink(probe.c_str());
}

std::string format_bytes(int64_t bytes) {
  constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024.0 && unit < 4) {
    value /= 1024.0;
    ++unit;
  }
  return unit == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", value, kUnits[unit]);
}

}  // namespace cadenza
