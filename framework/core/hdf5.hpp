// Small RAII helpers for the HDF5 C API, shared by every file format cadenza writes (datasets,
// checkpoints).
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <utility>

namespace cadenza::hdf5 {

// Owns one HDF5 identifier and closes it with the matching H5?close.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle(hid_t id, Closer closer) : id_(id), close_(closer) {}
  ~Handle() {
    if (id_ >= 0) close_(id_);
  }
  Handle(Handle&& other) noexcept : id_(std::exchange(other.id_, -1)), close_(other.close_) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle& operator=(Handle&&) = delete;
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  // Closes now and reports whether closing succeeded.
  bool close() { return close_(std::exchange(id_, -1)) >= 0; }

 private:
  hid_t id_;
  Closer close_;
};

// HDF5 prints its error stack to stderr by default; cadenza turns failures into typed exceptions
// instead. The setting is per thread in the thread-safe build, so this guard is local.
class QuietErrors {
 public:
  QuietErrors() {
    H5Eget_auto2(H5E_DEFAULT, &function_, &data_);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~QuietErrors() { H5Eset_auto2(H5E_DEFAULT, function_, data_); }
  QuietErrors(const QuietErrors&) = delete;
  QuietErrors& operator=(const QuietErrors&) = delete;

 private:
  H5E_auto2_t function_ = nullptr;
  void* data_ = nullptr;
};

// Builds an HDF5 file in memory (the core driver without a backing store): `fill` receives the
// open file and writes its groups, datasets and attributes. Then the file's image is written to
// `path` atomically (core/atomic_file.hpp). HDF5 itself never writes to disk, so a full disk or an
// I/O error is one clear Error naming the file and the system's reason ("No space left on
// device"), and no HDF5 file is left open after a failed write (HDF5 1.10 crashes at exit when a
// file's close failed). Throws Error naming `path` when HDF5 cannot build the image; exceptions
// from `fill` pass through.
void write_file_atomic(const std::filesystem::path& path, const std::function<void(hid_t)>& fill);

// The innermost message on HDF5's error stack (the root cause), or "" when the stack is empty.
// Clears the stack.
std::string error_cause();

// Readers check every array and string a file declares against this before allocating memory for
// it, since a few damaged header bytes can declare terabytes: the most bytes of data a file of
// `file_bytes` bytes can hold. Deflate, the only compression cadenza writes, expands data at most
// 1032-fold.
inline constexpr std::uintmax_t kMaxExpansion = 1032;
inline std::uintmax_t max_data_bytes(std::uintmax_t file_bytes) {
  return file_bytes > UINTMAX_MAX / kMaxExpansion ? UINTMAX_MAX : file_bytes * kMaxExpansion;
}

// Whether an array of shape `dims` with `element_bytes` per element takes at most `limit` bytes
// (computed without overflowing).
bool fits(std::span<const hsize_t> dims, std::uintmax_t element_bytes, std::uintmax_t limit);

// What is wrong with where `dataset` keeps its values, or "" when nothing is: readers refuse
// virtual datasets and external storage (values in other files), and storage smaller than the
// dataspace needs, which libhdf5 1.10 reads past the end of: compact or contiguous storage, or
// unfiltered chunks, of fewer bytes than the elements take. (Compressed chunks cannot be measured
// before decoding.)
std::string storage_problem(hid_t dataset);

}  // namespace cadenza::hdf5
