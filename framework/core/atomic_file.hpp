// Atomic outputs: every file cadenza writes appears complete or not at all, even on kill -9.
// Write to a temporary sibling, fsync it, rename it over the target, fsync the directory.
#pragma once

#include <filesystem>
#include <string_view>

namespace cadenza {

// A unique temporary path in the same directory as `target` (same filesystem, so rename is
// atomic). The name starts with '.' and ends with ".tmp" so that listings can ignore it.
std::filesystem::path temp_path_for(const std::filesystem::path& target);

// fsyncs `temp`, renames it to `target` and fsyncs the parent directory. Throws cadenza::Error
// naming both paths on failure (and removes `temp`).
void commit_atomic(const std::filesystem::path& temp, const std::filesystem::path& target);

// Writes `content` to `target` atomically (temp file + fsync + rename).
void write_file_atomic(const std::filesystem::path& target, std::string_view content);

// Reads a whole file; throws InputError naming the path when it cannot be read or is not a
// regular file (a device such as /dev/zero never ends, a FIFO blocks).
std::string read_file(const std::filesystem::path& path);

}  // namespace cadenza
