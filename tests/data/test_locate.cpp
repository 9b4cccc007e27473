// Locating datasets: data.root first, then $CADENZA_DATA, ../shared/datasets, datasets/cache.
#include <gtest/gtest.h>

#include <cstdlib>

#include "core/error.hpp"
#include "data/locate.hpp"
#include "support/process.hpp"

namespace cadenza {
namespace {

using testing::ScratchDir;

TEST(Locate, ConfigRootComesFirstThenEnvironment) {
  ScratchDir root;
  ScratchDir env;
  std::ofstream(root / "Nottingham.mat") << "x";
  std::filesystem::create_directories(env / "polyphonic");
  std::ofstream(env / "polyphonic" / "Nottingham.h5") << "x";
  ::setenv("CADENZA_DATA", env.path().c_str(), 1);
  EXPECT_EQ(locate_dataset("Nottingham", root.path().string()), root / "Nottingham.mat");
  EXPECT_EQ(locate_dataset("Nottingham", ""), env / "polyphonic" / "Nottingham.h5");
  ::unsetenv("CADENZA_DATA");
}

TEST(Locate, FindsTheSharedBenchmarks) {
  ::unsetenv("CADENZA_DATA");
  const auto path = locate_dataset("JSB_Chorales", "");
  EXPECT_TRUE(std::filesystem::equivalent(
      path, testing::shared_dir() / "datasets" / "polyphonic" / "JSB_Chorales.mat"));
}

// A name that is no benchmark, or a path that does not exist, is a wrong config value (exit 2).
TEST(Locate, BadNamesAndMissingFilesAreConfigErrors) {
  ScratchDir empty;
  try {
    locate_dataset("Not_A_Benchmark", "");
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("neither a benchmark name"), std::string::npos)
        << e.what();
  }
  try {
    locate_dataset((empty / "missing.h5").string(), "");
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("missing.h5"), std::string::npos) << e.what();
  }
}

TEST(Locate, NothingFoundListsEverySearchedPlaceAndHowToFetch) {
  ScratchDir a;
  ScratchDir b;
  try {
    find_in_roots("MuseData", {{a.path(), "data.root"}, {b.path(), "$CADENZA_DATA"}});
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find((a / "MuseData.mat").string() + " (data.root)"), std::string::npos);
    EXPECT_NE(message.find((b / "polyphonic" / "MuseData.h5").string() + " ($CADENZA_DATA)"),
              std::string::npos);
    EXPECT_NE(message.find("scripts/fetch_datasets.sh"), std::string::npos);
  }
  const auto roots = dataset_search_roots(a.path().string());
  ASSERT_EQ(roots.size(), 3u);
  EXPECT_EQ(roots.front().origin, "data.root");
  EXPECT_EQ(roots.back().origin, "datasets/cache");
}

}  // namespace
}  // namespace cadenza
