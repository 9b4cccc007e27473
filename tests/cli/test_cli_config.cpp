// The real binary: exit codes, messages, and that a rejected config writes nothing.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/process.hpp"

namespace cadenza {
namespace {

using testing::run_cadenza;
using testing::ScratchDir;

bool contains(const std::string& text, const std::string& fragment) {
  return text.find(fragment) != std::string::npos;
}

TEST(CliConfig, DumpPrintsResolvedQuickstart) {
  const auto quickstart = testing::source_dir() / "experiments" / "quickstart.json";
  const auto result = run_cadenza("config --dump '" + quickstart.string() + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto json = nlohmann::json::parse(result.out);
  EXPECT_EQ(json["name"], "quickstart");
  EXPECT_EQ(json["data"]["dataset"], "JSB_Chorales");
  EXPECT_TRUE(contains(result.err, "run id "));
}

TEST(CliConfig, MisspeltKeyExitsTwoWithSuggestionAndWritesNothing) {
  ScratchDir dir;
  std::ofstream(dir / "typo.json") << R"({"model": {"hiden_size": 64}})";
  const auto result = run_cadenza("config --dump '" + (dir / "typo.json").string() + "'");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_TRUE(contains(result.err, "model.hiden_size")) << result.err;
  EXPECT_TRUE(contains(result.err, "did you mean 'model.hidden_size'")) << result.err;
  EXPECT_TRUE(result.out.empty()) << result.out;
  size_t entries = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path()))
    ++entries;
  EXPECT_EQ(entries, 1u) << "a rejected config must not create files";
}

TEST(CliConfig, OverridesAfterTheFileApply) {
  const auto quickstart = testing::source_dir() / "experiments" / "quickstart.json";
  const auto result =
      run_cadenza("config --dump '" + quickstart.string() + "' model.hidden_size=32 seed=7");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto json = nlohmann::json::parse(result.out);
  EXPECT_EQ(json["model"]["hidden_size"], 32);
  EXPECT_EQ(json["seed"], 7);
  const auto bad = run_cadenza("config --dump '" + quickstart.string() + "' model.layers=99");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_TRUE(contains(bad.err, "model.layers")) << bad.err;
}

TEST(CliConfig, ExplainListsKeys) {
  const auto result = run_cadenza("config --explain");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(contains(result.out, "model.attention_style"));
  EXPECT_TRUE(contains(result.out, "threads.loader"));
}

TEST(CliConfig, UsageErrorsExitTwo) {
  EXPECT_EQ(run_cadenza("").exit_code, 2);
  const auto unknown = run_cadenza("no-such-command");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_TRUE(contains(unknown.err, "unknown subcommand 'no-such-command'; valid: config"))
      << unknown.err;
  EXPECT_EQ(run_cadenza("config --no-such-flag").exit_code, 2);
  EXPECT_EQ(run_cadenza("config").exit_code, 2);
  EXPECT_EQ(run_cadenza("config --explain --dump x.json").exit_code, 2);
  const auto missing = run_cadenza("config --dump does-not-exist.json");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_TRUE(contains(missing.err, "does-not-exist.json")) << missing.err;
}

TEST(CliConfig, HelpExitsZero) {
  EXPECT_EQ(run_cadenza("--help").exit_code, 0);
  const auto help = run_cadenza("config --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_TRUE(contains(help.out, "--explain"));
}

}  // namespace
}  // namespace cadenza
