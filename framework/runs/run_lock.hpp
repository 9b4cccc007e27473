// One sweep run's lock: an exclusive flock(2) on <sweep>/locks/<run id>.lock. Whoever holds it
// trains the run; the kernel releases it when the last holder's descriptor closes, so a process
// that dies (even by SIGKILL) never leaves a stale lock. The sweep hands the descriptor to the
// `cadenza train` child it starts, so the lock is held until both have exited.
// The file itself is never replaced (a rename would give later openers another inode to lock).
#pragma once

#include <filesystem>
#include <optional>

namespace cadenza {

class RunLock {
 public:
  // Takes the lock without waiting; nullopt when another process (or another descriptor of this
  // one) holds it. Creates the file and its folder when missing. Throws Error naming the path
  // when the file cannot be opened or locked for another reason.
  static std::optional<RunLock> try_acquire(const std::filesystem::path& path);

  // True when some process holds the lock at `path` now (false when the file does not exist).
  static bool is_held(const std::filesystem::path& path);

  RunLock(RunLock&& other) noexcept;
  RunLock& operator=(RunLock&& other) noexcept;
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;
  ~RunLock();

  // The locked descriptor (close-on-exec; a child that should keep holding it must clear that).
  int descriptor() const { return fd_; }

 private:
  explicit RunLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace cadenza
