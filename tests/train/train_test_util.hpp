// Test helpers shared by the training-infrastructure tests: random tensors from the project RNG,
// raw float32 files, and running a tests/python script with /usr/bin/python3.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/rng.hpp"
#include "core/tensor.hpp"

namespace cadenza::testing {

// A tensor of uniform values in [low, high) from stream (seed, tag).
inline Tensor uniform_tensor(std::vector<int64_t> dims, uint64_t seed, uint64_t tag, float low,
                             float high) {
  Tensor t(std::move(dims));
  uniform_fill(derive_key(seed, tag), 0, t.data(), static_cast<uint64_t>(t.numel()));
  for (float& v : t.values())
    v = low + (high - low) * v;
  return t;
}

inline void write_floats(const std::filesystem::path& path, const float* data, int64_t count) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(count * 4));
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

// Reads `count` float32 values; an absent or short file is a test failure (empty result).
inline std::vector<float> read_floats(const std::filesystem::path& path, int64_t count) {
  std::vector<float> values(static_cast<std::size_t>(count));
  std::ifstream in(path, std::ios::binary);
  in.read(reinterpret_cast<char*>(values.data()), static_cast<std::streamsize>(count * 4));
  if (!in || in.gcount() != count * 4) {
    ADD_FAILURE() << "cannot read " << count << " floats from " << path;
    return {};
  }
  return values;
}

struct ScriptResult {
  int status = -1;
  std::string output;  // stdout and stderr
};

// Runs tests/python/<script> with /usr/bin/python3 and the given (already quoted) arguments.
inline ScriptResult run_python_script(const std::string& script, const std::string& arguments) {
  const std::string command = "/usr/bin/python3 '" + std::string(CADENZA_SOURCE_DIR) +
                              "/tests/python/" + script + "' " + arguments + " 2>&1";
  ScriptResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[512];
  while (fgets(buffer, sizeof buffer, pipe) != nullptr)
    result.output += buffer;
  result.status = pclose(pipe);
  return result;
}

}  // namespace cadenza::testing
