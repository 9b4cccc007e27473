#include "core/hdf5.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <string_view>
#include <vector>

#include "core/atomic_file.hpp"
#include "core/error.hpp"

namespace cadenza::hdf5 {

void write_file_atomic(const std::filesystem::path& path, const std::function<void(hid_t)>& fill) {
  const QuietErrors quiet;
  const auto fail = [&path](const std::string& what) {
    const std::string cause = error_cause();
    throw Error(fmt::format("cannot write {}: {}{}", path.string(), what,
                            cause.empty() ? "" : ": " + cause));
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
    fill(file.get());
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

bool fits(std::span<const hsize_t> dims, std::uintmax_t element_bytes, std::uintmax_t limit) {
  if (std::find(dims.begin(), dims.end(), hsize_t{0}) != dims.end()) return true;
  std::uintmax_t bytes = element_bytes;
  for (const hsize_t dim : dims) {
    if (bytes > limit / dim) return false;
    bytes *= dim;
  }
  return bytes <= limit;
}

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

}  // namespace cadenza::hdf5
