// The HDF5 layer: every call into the HDF5 C API that cadenza makes is in core/hdf5.cpp. File
// formats (data/dataset.hpp, train/checkpoint_format.hpp) write through a Writer and read through
// a Reader, naming objects by absolute HDF5 paths ("/", "/train/rolls", "/params/decoder/W_ih").
//
// What is stored, and how:
//   attributes  scalar; int64 (little-endian) or a variable-length UTF-8 string
//   datasets    float32 (contiguous; rank 0 = scalar), int64 [n] (contiguous), uint8 (chunked
//               along the first dimension, which may grow, and deflated), variable-length UTF-8
//               strings [n] (contiguous)
//
// Writing failures throw Error "cannot write <kind> <file>: <what>: <HDF5's reason>". Reading
// failures throw InputError "<kind> <file>: <what>[: <HDF5's reason>]", never crash: every array
// and string a file declares is checked against what a file of its size can hold before memory is
// allocated for it, and storage that libhdf5 1.10 would read past is refused.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cadenza::hdf5 {

// The version of the HDF5 library in use, "1.10.8".
std::string library_version();

// The file write_file_atomic is building.
class Writer {
 public:
  Writer(hid_t file, std::filesystem::path path, std::string kind);

  [[noreturn]] void fail(std::string_view what) const;
  // Whether a link `path` exists; its parent group must exist.
  bool exists(const std::string& path) const;
  // Creates the group `path`; its parent must exist.
  void create_group(const std::string& path) const;
  // Attributes `name` of the object at `object`.
  void write_string_attribute(const std::string& object, const std::string& name,
                              const std::string& value) const;
  void write_int_attribute(const std::string& object, const std::string& name, int64_t value) const;
  // float32, shape `dims` (row-major `values`, product of dims elements), contiguous.
  void write_f32(const std::string& path, std::span<const int64_t> dims,
                 std::span<const float> values) const;
  // int64 [values.size()], contiguous.
  void write_i64(const std::string& path, std::span<const int64_t> values) const;
  // int16 [n], contiguous.
  void write_i16(const std::string& path, std::span<const int16_t> values) const;
  // uint8, shape `dims` (rank >= 1, row-major `values`), in chunks of min(max(dims[0], 1),
  // chunk_rows) rows compressed with deflate at `deflate_level`; dims[0] is unlimited.
  void write_u8_deflated(const std::string& path, std::span<const int64_t> dims,
                         std::span<const uint8_t> values, int64_t chunk_rows,
                         unsigned deflate_level) const;
  // Variable-length UTF-8 strings [values.size()].
  void write_strings(const std::string& path, std::span<const std::string> values) const;

 private:
  hid_t file_;
  std::filesystem::path path_;
  std::string kind_;
};

// Builds an HDF5 file in memory (the core driver without a backing store): `fill` receives a
// Writer of the open file and writes its groups, datasets and attributes. Then the file's image is
// written to `path` atomically (core/atomic_file.hpp). HDF5 itself never writes to disk, so a full
// disk or an I/O error is one clear Error naming the file and the system's reason ("No space left
// on device"), and no HDF5 file is left open after a failed write (HDF5 1.10 crashes at exit when
// a file's close failed). `kind` names the format in messages ("checkpoint", "dataset"). Throws
// Error naming `path` when HDF5 cannot build the image; exceptions from `fill` pass through.
void write_file_atomic(const std::filesystem::path& path, std::string_view kind,
                       const std::function<void(const Writer&)>& fill);

// A dataset's values and shape (dims is empty for a scalar).
template <typename T>
struct Array {
  std::vector<int64_t> dims;
  std::vector<T> values;
};

enum class ObjectType { kGroup, kDataset, kOther };
enum class AttributeType { kInteger, kString, kOther };

// A file opened read-only, with HDF5's own error printing off while it is open. Every reading
// method checks the object exists and has the expected type, and throws InputError naming the file
// and the object otherwise.
class Reader {
 public:
  // `kind` names the format in messages ("checkpoint", "dataset"). Throws InputError when `path`
  // is not a regular file ("no such file"), has no HDF5 signature ("not an HDF5 file") or does not
  // open ("not a readable HDF5 file (truncated or damaged?)").
  Reader(std::filesystem::path path, std::string kind);
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // Throws InputError "<kind> <file>: <what>[: <HDF5's reason>]".
  [[noreturn]] void fail(std::string_view what) const;

  // Whether a link `path` exists (false also when its parent does not).
  bool exists(const std::string& path) const;
  ObjectType object_type(const std::string& path) const;
  // Fails "missing group <path>" or "<path> is not a group" unless `path` is a group.
  void require_group(const std::string& path) const;
  // Absolute paths of every object below the group `group`, recursively, in name order. Fails on
  // a soft or external link.
  std::vector<std::string> objects_below(const std::string& group) const;

  // Names of the attributes of the object at `object`, in name order.
  std::vector<std::string> attribute_names(const std::string& object) const;
  // Fails "missing attribute <object><name>" when it does not exist and "... must be a single
  // value" when it holds more (or fewer) than one.
  AttributeType attribute_type(const std::string& object, const std::string& name) const;
  int64_t read_int_attribute(const std::string& object, const std::string& name) const;
  // A variable-length or fixed-length string (a fixed-length one ends at its first NUL).
  std::string read_string_attribute(const std::string& object, const std::string& name) const;

  // Datasets. read_f32 needs 4-byte floats; read_i64 and read_u8 any integer type HDF5 converts
  // (out-of-range values are clamped); read_strings variable-length strings of rank 1.
  Array<float> read_f32(const std::string& path) const;
  Array<int64_t> read_i64(const std::string& path) const;
  Array<uint8_t> read_u8(const std::string& path) const;
  std::vector<std::string> read_strings(const std::string& path) const;

 private:
  struct Open;  // the error-printing guard and the file's handle
  std::filesystem::path path_;
  std::string kind_;
  std::uintmax_t max_bytes_ = 0;  // the most bytes of data the file can hold
  std::unique_ptr<Open> open_;
};

}  // namespace cadenza::hdf5
