// SHA-256 digests (OpenSSL's EVP API), as lowercase hex.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace cadenza {

std::string sha256_hex(std::string_view bytes);
// Streams the file; throws InputError naming the path when it cannot be read.
std::string sha256_file_hex(const std::filesystem::path& path);

}  // namespace cadenza
