// What the machine can give a run, read before the run starts so that it can be refused with a
// clear message instead of failing half-way (an OOM kill, a full disk, a read-only folder).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace cadenza {

// Bytes of memory this process can still allocate without swapping: /proc/meminfo's
// MemAvailable, lowered to the cgroup's limit minus its usage (cgroup v2 memory.max and
// memory.current) when the process runs under one.
int64_t available_memory_bytes();

// Bytes free for an unprivileged writer on the filesystem holding `path` (statvfs f_bavail), or of
// its nearest existing ancestor when `path` does not exist yet.
int64_t free_disk_bytes(const std::filesystem::path& path);

// Throws Error when nothing can be created in `folder` (or in its nearest existing ancestor):
// read-only filesystem, no permission. Proves it by creating and removing a temporary file, so it
// leaves nothing behind. `what` names the folder's role in the message ("the runs folder").
void require_writable(const std::filesystem::path& folder, const std::string& what);

// "1.5 GiB", "312 MiB", "48 KiB", "17 B".
std::string format_bytes(int64_t bytes);

}  // namespace cadenza
