#include "core/atomic_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "core/error.hpp"

namespace cadenza {
namespace {

void fsync_path(const std::filesystem::path& path, int flags) {
  const int fd = ::open(path.c_str(), flags);
  if (fd < 0) {
    throw Error(fmt::format("cannot open {} to fsync it: {}", path.string(), std::strerror(errno)));
  }
  const int rc = ::fsync(fd);
  const int saved_errno = errno;
  ::close(fd);
  if (rc != 0) {
    throw Error(fmt::format("fsync of {} failed: {}", path.string(), std::strerror(saved_errno)));
  }
}

}  // namespace

std::filesystem::path temp_path_for(const std::filesystem::path& target) {
  static std::atomic<unsigned> counter{0};
  const auto name =
      fmt::format(".{}.{}.{}.tmp", target.filename().string(), ::getpid(), counter.fetch_add(1));
  return target.parent_path() / name;
}

void commit_atomic(const std::filesystem::path& temp, const std::filesystem::path& target) {
  try {
    fsync_path(temp, O_RDONLY);
    std::filesystem::rename(temp, target);
    const auto dir =
        target.parent_path().empty() ? std::filesystem::path(".") : target.parent_path();
    fsync_path(dir, O_RDONLY | O_DIRECTORY);
  } catch (const std::filesystem::filesystem_error& e) {
    std::error_code ignored;
    std::filesystem::remove(temp, ignored);
    throw Error(fmt::format("cannot move {} to {}: {}", temp.string(), target.string(),
                            e.code().message()));
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(temp, ignored);
    throw;
  }
}

void write_file_atomic(const std::filesystem::path& target, std::string_view content) {
  const auto temp = temp_path_for(target);
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) {
      throw Error(fmt::format("cannot create {}: {}", temp.string(), std::strerror(errno)));
    }
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.flush();
    if (!out) {
      std::error_code ignored;
      std::filesystem::remove(temp, ignored);
      throw Error(fmt::format("cannot write {}: {}", temp.string(), std::strerror(errno)));
    }
  }
  commit_atomic(temp, target);
}

std::string read_file(const std::filesystem::path& path) {
  std::error_code error;
  if (std::filesystem::exists(path, error) && !std::filesystem::is_regular_file(path, error)) {
    throw InputError(fmt::format("cannot read {}: not a regular file", path.string()));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw InputError(fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)));
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace cadenza
