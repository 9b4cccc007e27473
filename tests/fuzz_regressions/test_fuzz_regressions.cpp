// Replays every input a fuzz campaign found a problem with (tests/fuzz/regressions/<target>/,
// saved from build-fuzz/ by scripts/fuzz.sh) through the same feed that found it
// (tests/fuzz/fuzz_feeds.hpp): each must now be refused with a cadenza::Error, never crash or
// throw anything else. The file readers' errors must name the file they were given.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "fuzz/fuzz_feeds.hpp"
#include "support/process.hpp"

namespace cadenza::fuzz {

// Failure messages show a target by its name.
void PrintTo(const Target& target, std::ostream* out) {
  *out << target.name;
}

}  // namespace cadenza::fuzz

namespace cadenza::testing {
namespace {

std::vector<std::filesystem::path> regression_files(std::string_view target) {
  const auto folder = source_dir() / "tests" / "fuzz" / "regressions" / std::string(target);
  std::vector<std::filesystem::path> files;
  if (!std::filesystem::is_directory(folder)) return files;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

class FuzzRegressions : public ::testing::TestWithParam<fuzz::Target> {};

TEST_P(FuzzRegressions, EverySavedInputIsRefusedWithACadenzaError) {
  const fuzz::Target& target = GetParam();
  // config errors may name an override instead, and MIDI is parsed from memory.
  const bool names_file = target.name != "config" && target.name != "midi";
  for (const auto& file : regression_files(target.name)) {
    const std::string bytes = slurp(file);
    const ScratchDir scratch;
    try {
      target.feed(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()),
                  scratch.path());
      ADD_FAILURE() << file << " was accepted; expected a cadenza::Error";
    } catch (const Error& error) {
      const std::string message = error.what();
      if (names_file) {
        EXPECT_NE(message.find(scratch.path().string()), std::string::npos)
            << file << ": the error does not name the file: " << message;
      }
    } catch (const std::exception& error) {
      ADD_FAILURE() << file
                    << " raised an exception that is not a cadenza::Error: " << error.what();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Readers, FuzzRegressions, ::testing::ValuesIn(fuzz::kTargets),
                         [](const ::testing::TestParamInfo<fuzz::Target>& instance) {
                           return std::string(instance.param.name);
                         });

}  // namespace
}  // namespace cadenza::testing
