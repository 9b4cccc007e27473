#include "core/hdf5.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdlib>
#include <new>
#include <set>
#include <utility>

#include "core/atomic_file.hpp"
#include "core/error.hpp"

namespace cadenza::hdf5 {
namespace {

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

// The string type of every string cadenza stores: variable-length UTF-8.
Handle utf8_string_type() {
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  return type;
}

// The innermost message on HDF5's error stack (the root cause), or "" when the stack is empty.
// Clears the stack.
std::string error_cause() {
  std::string message;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned, const H5E_error2_t* error, void* out) -> herr_t {
        auto& text = *static_cast<std::string*>(out);
        if (text.empty() && error->desc != nullptr) text = error->desc;
        return 0;
      },
      &message);
  H5Eclear2(H5E_DEFAULT);
  return message;
}

// ": <error_cause()>", or "" when HDF5 reported none.
std::string cause_suffix() {
  const std::string cause = error_cause();
  return cause.empty() ? "" : ": " + cause;
}

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

// Memory for the strings of a variable-length string read, given to HDF5 through its vlen memory
// manager hooks. Every string is freed when this goes away, also those HDF5 had converted before a
// read failed part-way: HDF5 itself loses those (they sit in its conversion buffer).
class StringArena {
 public:
  StringArena() : transfer_(H5Pcreate(H5P_DATASET_XFER), H5Pclose) {
    H5Pset_vlen_mem_manager(transfer_.get(), allocate, this, release, this);
  }
  ~StringArena() {
    for (void* block : blocks_)
      std::free(block);
  }
  StringArena(const StringArena&) = delete;
  StringArena& operator=(const StringArena&) = delete;
  // The dataset transfer property list to read with.
  hid_t transfer() const { return transfer_.get(); }

 private:
  static void* allocate(size_t size, void* arena) {
    void* block = std::malloc(size);
    try {
      if (block != nullptr) static_cast<StringArena*>(arena)->blocks_.insert(block);
    } catch (const std::bad_alloc&) {
      std::free(block);
      return nullptr;
    }
    return block;
  }
  static void release(void* block, void* arena) {
    static_cast<StringArena*>(arena)->blocks_.erase(block);
    std::free(block);
  }

  Handle transfer_;
  std::set<void*> blocks_;
};

// Readers check every array and string a file declares against this before allocating memory for
// it, since a few damaged header bytes can declare terabytes: the most bytes of data a file of
// `file_bytes` bytes can hold. Deflate, the only compression cadenza writes, expands data at most
// 1032-fold.
constexpr std::uintmax_t kMaxExpansion = 1032;
std::uintmax_t max_data_bytes(std::uintmax_t file_bytes) {
  return file_bytes > UINTMAX_MAX / kMaxExpansion ? UINTMAX_MAX : file_bytes * kMaxExpansion;
}

// Whether an array of shape `dims` with `element_bytes` per element takes at most `limit` bytes
// (computed without overflowing).
bool fits(std::span<const hsize_t> dims, std::uintmax_t element_bytes, std::uintmax_t limit) {
  if (std::find(dims.begin(), dims.end(), hsize_t{0}) != dims.end()) return true;
  std::uintmax_t bytes = element_bytes;
  for (const hsize_t dim : dims) {
    if (bytes > limit / dim) return false;
    bytes *= dim;
  }
  return bytes <= limit;
}

// What is wrong with where `dataset` keeps its values, or "" when nothing is: readers refuse
// virtual datasets and external storage (values in other files), and storage smaller than the
// dataspace needs, which libhdf5 1.10 reads past the end of: compact or contiguous storage, or
// unfiltered chunks, of fewer bytes than the elements take. (Compressed chunks cannot be measured
// before decoding.)
std::string storage_problem(hid_t dataset) {
  const Handle properties(H5Dget_create_plist(dataset), H5Pclose);
  const Handle space(H5Dget_space(dataset), H5Sclose);
  const Handle type(H5Dget_type(dataset), H5Tclose);
  if (!properties.valid() || !space.valid() || !type.valid()) return "unreadable storage layout";
  const H5D_layout_t layout = H5Pget_layout(properties.get());
  if (layout == H5D_VIRTUAL) return "is a virtual dataset (its values are in other files)";
  if (H5Pget_external_count(properties.get()) != 0) return "keeps its values in external files";
  const size_t element_bytes = H5Tget_size(type.get());
  const hsize_t stored = H5Dget_storage_size(dataset);
  if (element_bytes == 0) return "has a datatype of 0 bytes";
  if (layout == H5D_CHUNKED) {
    // Filtered (compressed) chunks cannot be measured before decoding. Unfiltered ones must all
    // be stored, whole: cadenza writes every chunk of its arrays.
    if (H5Pget_nfilters(properties.get()) != 0) return "";
    const int rank = H5Sget_simple_extent_ndims(space.get());
    std::vector<hsize_t> dims(static_cast<size_t>(std::max(rank, 0)));
    std::vector<hsize_t> chunk(dims.size());
    if (rank < 1 || H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) < 0 ||
        H5Pget_chunk(properties.get(), rank, chunk.data()) != rank ||
        std::find(chunk.begin(), chunk.end(), hsize_t{0}) != chunk.end()) {
      return "unreadable chunk layout";
    }
    constexpr std::uintmax_t kMaxChunkBytes = std::uintmax_t{1} << 32;  // HDF5's limit
    if (!fits(chunk, element_bytes, kMaxChunkBytes)) return "has chunks larger than 4 GiB";
    std::uintmax_t chunk_bytes = element_bytes;
    std::vector<hsize_t> chunks(dims.size());  // chunks along each dimension
    for (size_t d = 0; d < dims.size(); ++d) {
      chunk_bytes *= chunk[d];
      chunks[d] = dims[d] / chunk[d] + (dims[d] % chunk[d] != 0 ? 1 : 0);
    }
    if (!fits(chunks, chunk_bytes, stored)) {
      return fmt::format("stores {} bytes for [{}] unfiltered chunks of {} bytes", stored,
                         fmt::join(chunks, ", "), chunk_bytes);
    }
    return "";
  }
  const hssize_t elements = H5Sget_simple_extent_npoints(space.get());
  if (elements < 0 || stored / element_bytes < static_cast<hsize_t>(elements)) {
    return fmt::format("stores {} bytes for {} elements of {} bytes", stored, elements,
                       element_bytes);
  }
  return "";
}

// "/name" for an attribute of the root, "<object>@<name>" for any other.
std::string attribute_label(const std::string& object, const std::string& name) {
  return object == "/" ? "/" + name : object + "@" + name;
}

}  // namespace

std::string library_version() {
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  return fmt::format("{}.{}.{}", major, minor, release);
}

// --- writing ---------------------------------------------------------------------------------

Writer::Writer(hid_t file, std::filesystem::path path, std::string kind)
    : file_(file), path_(std::move(path)), kind_(std::move(kind)) {}

void Writer::fail(std::string_view what) const {
  throw Error(fmt::format("cannot write {} {}: {}{}", kind_, path_.string(), what, cause_suffix()));
}

bool Writer::exists(const std::string& path) const {
  const htri_t exists = H5Lexists(file_, path.c_str(), H5P_DEFAULT);
  if (exists < 0) fail(fmt::format("cannot look up {}", path));
  return exists > 0;
}

void Writer::create_group(const std::string& path) const {
  const Handle group(H5Gcreate2(file_, path.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                     H5Gclose);
  if (!group.valid()) fail(fmt::format("cannot create group {}", path));
}

namespace {

// Writes the scalar attribute `name` of `object`: `value` in `memory_type`, stored as `file_type`.
void write_attribute(const Writer& writer, hid_t file, const std::string& object,
                     const std::string& name, hid_t file_type, hid_t memory_type,
                     const void* value) {
  const Handle target(H5Oopen(file, object.c_str(), H5P_DEFAULT), H5Oclose);
  if (!target.valid()) writer.fail(fmt::format("cannot open {}", object));
  const Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  const Handle attribute(
      H5Acreate2(target.get(), name.c_str(), file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT),
      H5Aclose);
  if (!attribute.valid()) {
    writer.fail(fmt::format("cannot create attribute {}", attribute_label(object, name)));
  }
  if (H5Awrite(attribute.get(), memory_type, value) < 0) {
    writer.fail(fmt::format("cannot write attribute {}", attribute_label(object, name)));
  }
}

// Creates the dataset `path` (`file_type` elements in `space`, laid out as `properties` says) and
// writes `values` (in `memory_type`) to it unless `values` is null.
void write_dataset(const Writer& writer, hid_t file, const std::string& path, hid_t file_type,
                   const Handle& space, hid_t properties, hid_t memory_type, const void* values) {
  const Handle data(
      H5Dcreate2(file, path.c_str(), file_type, space.get(), H5P_DEFAULT, properties, H5P_DEFAULT),
      H5Dclose);
  if (!data.valid()) writer.fail(fmt::format("cannot create dataset {}", path));
  if (values != nullptr &&
      H5Dwrite(data.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values) < 0) {
    writer.fail(fmt::format("cannot write dataset {}", path));
  }
}

Handle simple_space(std::span<const int64_t> dims, const hsize_t* max_dims = nullptr) {
  const std::vector<hsize_t> sizes(dims.begin(), dims.end());
  return Handle(dims.empty()
                    ? H5Screate(H5S_SCALAR)
                    : H5Screate_simple(static_cast<int>(sizes.size()), sizes.data(), max_dims),
                H5Sclose);
}

}  // namespace

void Writer::write_string_attribute(const std::string& object, const std::string& name,
                                    const std::string& value) const {
  const Handle type = utf8_string_type();
  const char* text = value.c_str();
  write_attribute(*this, file_, object, name, type.get(), type.get(), &text);
}

void Writer::write_int_attribute(const std::string& object, const std::string& name,
                                 int64_t value) const {
  write_attribute(*this, file_, object, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value);
}

void Writer::write_f32(const std::string& path, std::span<const int64_t> dims,
                       std::span<const float> values) const {
  write_dataset(*this, file_, path, H5T_IEEE_F32LE, simple_space(dims), H5P_DEFAULT,
                H5T_NATIVE_FLOAT, values.empty() ? nullptr : values.data());
}

void Writer::write_i64(const std::string& path, std::span<const int64_t> values) const {
  const int64_t dims[1] = {static_cast<int64_t>(values.size())};
  write_dataset(*this, file_, path, H5T_STD_I64LE, simple_space(dims), H5P_DEFAULT,
                H5T_NATIVE_INT64, values.empty() ? nullptr : values.data());
}

void Writer::write_i16(const std::string& path, std::span<const int16_t> values) const {
  const int64_t dims[1] = {static_cast<int64_t>(values.size())};
  write_dataset(*this, file_, path, H5T_STD_I16LE, simple_space(dims), H5P_DEFAULT,
                H5T_NATIVE_INT16, values.empty() ? nullptr : values.data());
}

void Writer::write_u8_deflated(const std::string& path, std::span<const int64_t> dims,
                               std::span<const uint8_t> values, int64_t chunk_rows,
                               unsigned deflate_level) const {
  std::vector<hsize_t> max_dims(dims.begin(), dims.end());
  std::vector<hsize_t> chunk(dims.begin(), dims.end());
  max_dims[0] = H5S_UNLIMITED;
  chunk[0] = std::clamp<hsize_t>(chunk[0], 1, static_cast<hsize_t>(chunk_rows));
  const Handle properties(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  if (H5Pset_chunk(properties.get(), static_cast<int>(chunk.size()), chunk.data()) < 0 ||
      H5Pset_deflate(properties.get(), deflate_level) < 0) {
    fail(fmt::format("cannot set a chunked, deflated layout for {}", path));
  }
  write_dataset(*this, file_, path, H5T_STD_U8LE, simple_space(dims, max_dims.data()),
                properties.get(), H5T_NATIVE_UINT8, values.empty() ? nullptr : values.data());
}

void Writer::write_strings(const std::string& path, std::span<const std::string> values) const {
  const int64_t dims[1] = {static_cast<int64_t>(values.size())};
  const Handle type = utf8_string_type();
  std::vector<const char*> texts;
  texts.reserve(values.size());
  for (const std::string& value : values)
    texts.push_back(value.c_str());
  write_dataset(*this, file_, path, type.get(), simple_space(dims), H5P_DEFAULT, type.get(),
                texts.empty() ? nullptr : texts.data());
}

void write_file_atomic(const std::filesystem::path& path, std::string_view kind,
                       const std::function<void(const Writer&)>& fill) {
  const QuietErrors quiet;
  const auto fail = [&](const std::string& what) {
    throw Error(fmt::format("cannot write {} {}: {}{}", kind, path.string(), what, cause_suffix()));
  };
  std::vector<char> image;
  {
    const Handle access(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
    if (!access.valid() || H5Pset_fapl_core(access.get(), 1 << 20, 0) < 0) {
      fail("cannot set up an in-memory HDF5 file");
    }
    // The name only identifies the in-memory file; nothing is created under it.
    Handle file(H5Fcreate(temp_path_for(path).c_str(), H5F_ACC_EXCL, H5P_DEFAULT, access.get()),
                H5Fclose);
    if (!file.valid()) fail("cannot create an in-memory HDF5 file");
    fill(Writer(file.get(), path, std::string(kind)));
    if (H5Fflush(file.get(), H5F_SCOPE_GLOBAL) < 0) fail("cannot flush the in-memory file");
    const ssize_t size = H5Fget_file_image(file.get(), nullptr, 0);
    if (size < 0) fail("cannot read the in-memory file's size");
    image.resize(static_cast<size_t>(size));
    if (H5Fget_file_image(file.get(), image.data(), image.size()) != size) {
      fail("cannot read the in-memory file's image");
    }
    if (!file.close()) fail("cannot close the in-memory file");
  }
  cadenza::write_file_atomic(path, std::string_view(image.data(), image.size()));
}

// --- reading ---------------------------------------------------------------------------------

struct Reader::Open {
  explicit Open(const std::filesystem::path& path)
      : is_hdf5(H5Fis_hdf5(path.c_str())),
        file(is_hdf5 > 0 ? H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT) : -1, H5Fclose) {}
  QuietErrors quiet;  // first: on while the file is checked, opened and read, and closed
  htri_t is_hdf5;
  Handle file;
};

Reader::Reader(std::filesystem::path path, std::string kind)
    : path_(std::move(path)), kind_(std::move(kind)) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path_, error)) fail("no such file");
  open_ = std::make_unique<Open>(path_);
  if (open_->is_hdf5 <= 0) fail("not an HDF5 file");
  if (!open_->file.valid()) fail("not a readable HDF5 file (truncated or damaged?)");
  max_bytes_ = max_data_bytes(std::filesystem::file_size(path_, error));
  if (error) fail(error.message());
}

Reader::~Reader() = default;

void Reader::fail(std::string_view what) const {
  throw InputError(fmt::format("{} {}: {}{}", kind_, path_.string(), what, cause_suffix()));
}

bool Reader::exists(const std::string& path) const {
  return H5Lexists(open_->file.get(), path.c_str(), H5P_DEFAULT) > 0;
}

ObjectType Reader::object_type(const std::string& path) const {
  const Handle object(H5Oopen(open_->file.get(), path.c_str(), H5P_DEFAULT), H5Oclose);
  if (!object.valid()) fail(fmt::format("cannot open {}", path));
  switch (H5Iget_type(object.get())) {
    case H5I_GROUP:
      return ObjectType::kGroup;
    case H5I_DATASET:
      return ObjectType::kDataset;
    default:
      return ObjectType::kOther;
  }
}

void Reader::require_group(const std::string& path) const {
  if (!exists(path)) fail(fmt::format("missing group {}", path));
  const Handle group(H5Gopen2(open_->file.get(), path.c_str(), H5P_DEFAULT), H5Gclose);
  if (!group.valid()) fail(fmt::format("{} is not a group", path));
}

std::vector<std::string> Reader::objects_below(const std::string& group) const {
  const Handle opened(H5Gopen2(open_->file.get(), group.c_str(), H5P_DEFAULT), H5Gclose);
  if (!opened.valid()) fail(fmt::format("{} is not a group", group));
  struct Visit {
    std::string prefix;
    std::vector<std::string> paths;
    std::string bad_link;
  } visit{group == "/" ? "/" : group + "/", {}, {}};
  const herr_t status = H5Lvisit(
      opened.get(), H5_INDEX_NAME, H5_ITER_INC,
      [](hid_t, const char* name, const H5L_info_t* info, void* data) -> herr_t {
        auto& out = *static_cast<Visit*>(data);
        if (info->type != H5L_TYPE_HARD) {
          out.bad_link = out.prefix + name;
          return 1;
        }
        out.paths.push_back(out.prefix + name);
        return 0;
      },
      &visit);
  if (status < 0) fail(fmt::format("cannot list the objects below {}", group));
  if (!visit.bad_link.empty()) fail(fmt::format("{} is a soft or external link", visit.bad_link));
  return visit.paths;
}

std::vector<std::string> Reader::attribute_names(const std::string& object) const {
  const Handle target(H5Oopen(open_->file.get(), object.c_str(), H5P_DEFAULT), H5Oclose);
  if (!target.valid()) fail(fmt::format("cannot open {}", object));
  std::vector<std::string> names;
  hsize_t index = 0;
  const herr_t status = H5Aiterate2(
      target.get(), H5_INDEX_NAME, H5_ITER_INC, &index,
      [](hid_t, const char* name, const H5A_info_t*, void* data) -> herr_t {
        static_cast<std::vector<std::string>*>(data)->emplace_back(name);
        return 0;
      },
      &names);
  if (status < 0) fail(fmt::format("cannot list the attributes of {}", object));
  return names;
}

namespace {

// The attribute `name` of `object` in `file`, checked to exist and hold one value.
Handle open_attribute(const Reader& reader, hid_t file, const std::string& object,
                      const std::string& name) {
  if (H5Aexists_by_name(file, object.c_str(), name.c_str(), H5P_DEFAULT) <= 0) {
    reader.fail(fmt::format("missing attribute {}", attribute_label(object, name)));
  }
  Handle attribute(H5Aopen_by_name(file, object.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT),
                   H5Aclose);
  const Handle space(attribute.valid() ? H5Aget_space(attribute.get()) : -1, H5Sclose);
  if (!space.valid() || H5Sget_simple_extent_npoints(space.get()) != 1) {
    reader.fail(fmt::format("attribute {} must be a single value", attribute_label(object, name)));
  }
  return attribute;
}

H5T_class_t attribute_class(const Handle& attribute) {
  const Handle type(H5Aget_type(attribute.get()), H5Tclose);
  return type.valid() ? H5Tget_class(type.get()) : H5T_NO_CLASS;
}

}  // namespace

AttributeType Reader::attribute_type(const std::string& object, const std::string& name) const {
  const Handle attribute = open_attribute(*this, open_->file.get(), object, name);
  switch (attribute_class(attribute)) {
    case H5T_INTEGER:
      return AttributeType::kInteger;
    case H5T_STRING:
      return AttributeType::kString;
    default:
      return AttributeType::kOther;
  }
}

int64_t Reader::read_int_attribute(const std::string& object, const std::string& name) const {
  const Handle attribute = open_attribute(*this, open_->file.get(), object, name);
  int64_t value = 0;
  if (attribute_class(attribute) != H5T_INTEGER ||
      H5Aread(attribute.get(), H5T_NATIVE_INT64, &value) < 0) {
    fail(fmt::format("attribute {} must be an integer", attribute_label(object, name)));
  }
  return value;
}

std::string Reader::read_string_attribute(const std::string& object,
                                          const std::string& name) const {
  const std::string label = attribute_label(object, name);
  const Handle attribute = open_attribute(*this, open_->file.get(), object, name);
  const Handle file_type(H5Aget_type(attribute.get()), H5Tclose);
  if (!file_type.valid() || H5Tget_class(file_type.get()) != H5T_STRING) {
    fail(fmt::format("attribute {} must be a string", label));
  }
  if (H5Tis_variable_str(file_type.get()) > 0) {
    const Handle memory_type = utf8_string_type();
    char* text = nullptr;
    if (H5Aread(attribute.get(), memory_type.get(), &text) < 0) {
      fail(fmt::format("cannot read attribute {}", label));
    }
    std::string value = text != nullptr ? text : "";
    H5free_memory(text);
    return value;
  }
  const size_t size = H5Tget_size(file_type.get());
  if (size > max_bytes_) {
    fail(fmt::format("attribute {} declares a {}-byte string, more than the file can hold", label,
                     size));
  }
  const Handle memory_type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(memory_type.get(), size);
  std::string value(size, '\0');
  if (H5Aread(attribute.get(), memory_type.get(), value.data()) < 0) {
    fail(fmt::format("cannot read attribute {}", label));
  }
  value.resize(value.find('\0') == std::string::npos ? size : value.find('\0'));
  return value;
}

namespace {

// How a dataset reader wants its elements: the file's type class (and, when not 0, size), and the
// bytes each takes in memory.
struct ElementType {
  H5T_class_t type_class;
  size_t file_bytes;  // 0 = any
  size_t memory_bytes;
  std::string_view name;  // for messages: "float32", "an integer array"
};

// Opens the dataset `path` and checks its type, that its elements fit into what a file of the
// reader's size can hold (`max_bytes`), and its storage (storage_problem); sets `dims`.
Handle open_dataset(const Reader& reader, hid_t file, const std::string& path,
                    const ElementType& element, std::uintmax_t max_bytes,
                    std::vector<int64_t>& dims) {
  if (!reader.exists(path)) reader.fail(fmt::format("missing dataset {}", path));
  Handle data(H5Dopen2(file, path.c_str(), H5P_DEFAULT), H5Dclose);
  if (!data.valid()) reader.fail(fmt::format("{} is not a dataset", path));
  const Handle type(H5Dget_type(data.get()), H5Tclose);
  if (!type.valid() || H5Tget_class(type.get()) != element.type_class ||
      (element.file_bytes != 0 && H5Tget_size(type.get()) != element.file_bytes)) {
    reader.fail(fmt::format("dataset {} is not {}", path, element.name));
  }
  const Handle space(H5Dget_space(data.get()), H5Sclose);
  const int rank = space.valid() ? H5Sget_simple_extent_ndims(space.get()) : -1;
  if (rank < 0) reader.fail(fmt::format("cannot read the shape of {}", path));
  std::vector<hsize_t> sizes(static_cast<size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), sizes.data(), nullptr);
  if (!fits(sizes, element.memory_bytes, max_bytes)) {
    reader.fail(fmt::format("dataset {} declares [{}] elements, more than the file can hold", path,
                            fmt::join(sizes, ", ")));
  }
  const std::string problem = storage_problem(data.get());
  if (!problem.empty()) reader.fail(fmt::format("dataset {} {}", path, problem));
  dims.assign(sizes.begin(), sizes.end());
  return data;
}

// Elements of the dataspace of `data` (0 for an empty one, 1 for a scalar).
size_t element_count(const Handle& data) {
  const Handle space(H5Dget_space(data.get()), H5Sclose);
  return static_cast<size_t>(std::max<hssize_t>(H5Sget_simple_extent_npoints(space.get()), 0));
}

template <typename T>
Array<T> read_numbers(const Reader& reader, hid_t file, const std::string& path,
                      const ElementType& element, hid_t memory_type, std::uintmax_t max_bytes) {
  Array<T> array;
  const Handle data = open_dataset(reader, file, path, element, max_bytes, array.dims);
  array.values.resize(element_count(data));
  if (!array.values.empty() &&
      H5Dread(data.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, array.values.data()) < 0) {
    reader.fail(fmt::format("cannot read dataset {} (truncated or damaged file?)", path));
  }
  return array;
}

}  // namespace

Array<float> Reader::read_f32(const std::string& path) const {
  return read_numbers<float>(*this, open_->file.get(), path,
                             {H5T_FLOAT, sizeof(float), sizeof(float), "float32"}, H5T_NATIVE_FLOAT,
                             max_bytes_);
}

Array<int64_t> Reader::read_i64(const std::string& path) const {
  return read_numbers<int64_t>(*this, open_->file.get(), path,
                               {H5T_INTEGER, 0, sizeof(int64_t), "an integer array"},
                               H5T_NATIVE_INT64, max_bytes_);
}

Array<uint8_t> Reader::read_u8(const std::string& path) const {
  return read_numbers<uint8_t>(*this, open_->file.get(), path,
                               {H5T_INTEGER, 0, sizeof(uint8_t), "an integer array"},
                               H5T_NATIVE_UINT8, max_bytes_);
}

std::vector<std::string> Reader::read_strings(const std::string& path) const {
  std::vector<int64_t> dims;
  const Handle data =
      open_dataset(*this, open_->file.get(), path, {H5T_STRING, 0, sizeof(char*), "a string array"},
                   max_bytes_, dims);
  if (dims.size() != 1) fail(fmt::format("dataset {} must be 1-D", path));
  std::vector<std::string> values;
  if (dims[0] == 0) return values;
  const Handle memory_type = utf8_string_type();
  StringArena arena;
  std::vector<char*> texts(static_cast<size_t>(dims[0]), nullptr);
  if (H5Dread(data.get(), memory_type.get(), H5S_ALL, H5S_ALL, arena.transfer(), texts.data()) <
      0) {
    fail(fmt::format("cannot read dataset {} (variable-length strings expected)", path));
  }
  values.reserve(texts.size());
  for (const char* text : texts)
    values.emplace_back(text != nullptr ? text : "");
  return values;
}

}  // namespace cadenza::hdf5
