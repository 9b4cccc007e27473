// The libFuzzer entry point of every fuzz target: tests/fuzz/CMakeLists.txt builds it once per
// target as build-fuzz/tests/fuzz/fuzz_<target> with CADENZA_FUZZ_TARGET="<target>", and
// scripts/fuzz.sh runs it. Each input goes to the target's feed (fuzz_feeds.hpp); cadenza::Error
// is the expected refusal of a bad input and is caught. Any other exception escapes and aborts,
// so libFuzzer reports it, like a crash, a sanitizer report, a timeout or a leak.
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "core/error.hpp"
#include "fuzz/fuzz_feeds.hpp"

namespace {

namespace fs = std::filesystem;

constexpr const cadenza::fuzz::Target* kTarget =
    std::find_if(cadenza::fuzz::kTargets.begin(), cadenza::fuzz::kTargets.end(),
                 [](const cadenza::fuzz::Target& t) { return t.name == CADENZA_FUZZ_TARGET; });
static_assert(kTarget != cadenza::fuzz::kTargets.end(),
              "CADENZA_FUZZ_TARGET names no target of fuzz_feeds.hpp");

// A directory of this process for the files a feed writes, removed when the fuzzer exits.
class Scratch {
 public:
  Scratch()
      : path_(fs::temp_directory_path() /
              ("cadenza-fuzz-" + std::string(kTarget->name) + "-" + std::to_string(getpid()))) {
    fs::create_directories(path_);
  }
  ~Scratch() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

const fs::path& scratch() {
  static const Scratch dir;
  return dir.path();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    kTarget->feed({data, size}, scratch());
  } catch (const cadenza::Error&) {
  }
  return 0;
}
