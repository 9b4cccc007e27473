// `cadenza compare` through the real binary: exit codes and messages for bad paths, bad
// --baseline and --metrics, malformed run files; the report files and stdout; and an end-to-end
// comparison of two real tiny trainings (experiments/smoke.json, seeds 1 and 2).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "experiments/compare_test_util.hpp"
#include "support/process.hpp"

namespace cadenza {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::FakeRun;
using testing::run_cadenza;
using testing::ScratchDir;

using testing::quoted;

// A sweep directory with lm and seq2seq, two seeds each, one failed run and one not started.
fs::path write_sweep(const ScratchDir& dir) {
  const fs::path sweep = dir / "sweep";
  std::vector<std::string> listed;
  int index = 0;
  for (const std::string type : {"lm", "seq2seq"}) {
    for (int64_t seed = 1; seed <= 2; ++seed) {
      FakeRun run;
      run.dir_name = "run-" + std::to_string(index++);
      run.model = {{"type", type}, {"attention", "none"}};
      run.seed = seed;
      run.test_nll = (type == "lm" ? 8.5 : 8.9) + 0.01 * static_cast<double>(seed);
      testing::write_fake_run(sweep / "runs", run);
      listed.push_back("runs/" + run.dir_name);
    }
  }
  FakeRun failed;
  failed.dir_name = "run-failed";
  failed.seed = 3;
  failed.status = "failed";
  failed.test_row = false;
  testing::write_fake_run(sweep / "runs", failed);
  listed.push_back("runs/run-failed");
  listed.push_back("runs/never-started");
  testing::write_sweep_json(sweep, listed);
  return sweep;
}

TEST(CompareCli, WritesTheReportAndPrintsTheMarkdown) {
  ScratchDir dir;
  const fs::path sweep = write_sweep(dir);
  const auto result = run_cadenza("compare " + quoted(sweep));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  // Default output folder of a sweep: <SWEEP_DIR>/compare.
  for (const char* file : {"report.md", "report.csv", "report.html"})
    EXPECT_TRUE(fs::exists(sweep / "compare" / file)) << file;
  EXPECT_EQ(result.out, testing::slurp(sweep / "compare" / "report.md"));
  EXPECT_NE(result.out.find("| model.type=lm (baseline) | 8.5150 ± 0.0071"), std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("run-failed | model.type=lm | JSB_Chorales | 3 | failed |"),
            std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("never-started | — | JSB_Chorales | 1 | missing |"), std::string::npos)
      << result.out;
  EXPECT_NE(result.err.find("left out of the statistics:"), std::string::npos);
  EXPECT_NE(result.err.find("4 runs compared (2 left out)"), std::string::npos) << result.err;

  // Options before the path: each --baseline and --metrics takes one argument.
  const auto chosen = run_cadenza("compare --baseline model.type=seq2seq --metrics nll --out " +
                                  quoted(dir / "out") + " " + quoted(sweep));
  ASSERT_EQ(chosen.exit_code, 0) << chosen.err;
  EXPECT_NE(chosen.out.find("| model.type=seq2seq (baseline) |"), std::string::npos);
  EXPECT_NE(chosen.out.find("| model.type=lm | JSB_Chorales | nll | 2 | -0.4000 |"),
            std::string::npos)
      << chosen.out;
  EXPECT_EQ(chosen.out.find("JSB_Chorales acc"), std::string::npos);
  EXPECT_TRUE(fs::exists(dir / "out" / "report.html"));
}

TEST(CompareCli, BadInputsAreClearErrorsWithExitCodes) {
  ScratchDir dir;
  const fs::path sweep = write_sweep(dir);
  struct Case {
    std::string arguments;
    int exit_code;
    std::string message;
  };
  fs::create_directories(dir / "empty");
  const fs::path broken = dir / "broken";
  testing::write_fake_run(broken, {});
  std::ofstream(broken / "config.json") << "{";
  const std::vector<Case> cases = {
      {"compare " + quoted(dir / "missing"), 2, "does not exist"},
      {"compare " + quoted(dir / "empty"), 2, "not a run directory (no config.json)"},
      {"compare " + quoted(sweep) + " --baseline model.layers=2", 2, "valid keys: model.type"},
      {"compare " + quoted(sweep) + " --baseline model.type=rnn", 2,
       "valid values of model.type: lm, seq2seq"},
      {"compare " + quoted(sweep) + " --metrics nll,bleu", 2, "available: acc, f1, nll"},
      {"compare " + quoted(broken), 3, "config.json: invalid JSON"},
      {"compare " + quoted(sweep) + " --published " + quoted(dir / "none"), 3, "no such folder"},
      {"compare", 2, "paths is required"},
  };
  for (const Case& c : cases) {
    const auto result = run_cadenza(c.arguments);
    EXPECT_EQ(result.exit_code, c.exit_code) << c.arguments << "\n" << result.err;
    EXPECT_NE(result.err.find(c.message), std::string::npos) << c.arguments << "\n" << result.err;
    EXPECT_TRUE(result.out.empty()) << c.arguments;
  }
  EXPECT_FALSE(fs::exists(sweep / "compare"));  // nothing written on errors
}

// Test nll of a real run, from the test row of its metrics.jsonl.
double logged_test_nll(const fs::path& run_dir) {
  std::istringstream lines(testing::slurp(run_dir / "metrics.jsonl"));
  std::string line;
  double nll = std::nan("");
  while (std::getline(lines, line)) {
    const json row = json::parse(line);
    if (row["split"] == "test") nll = row["nll"].get<double>();
  }
  return nll;
}

TEST(CompareCli, EndToEndOnTwoRealTinyRuns) {
  ScratchDir dir;
  const fs::path smoke = testing::source_dir() / "experiments" / "smoke.json";
  std::vector<fs::path> run_dirs;
  for (const char* seed : {"1", "2"}) {
    const auto trained =
        run_cadenza("train " + quoted(smoke) + " seed=" + seed +
                    " train.epochs=2 threads.compute=1 --runs-dir " + quoted(dir / "runs"));
    ASSERT_EQ(trained.exit_code, 0) << trained.err;
    std::istringstream lines(trained.out);
    std::string line, last;
    while (std::getline(lines, line))
      if (!line.empty()) last = line;
    run_dirs.push_back(json::parse(last)["run_dir"].get<std::string>());
  }
  const auto result = run_cadenza("compare " + quoted(run_dirs[0]) + " " + quoted(run_dirs[1]) +
                                  " --out " + quoted(dir / "report"));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const double first = logged_test_nll(run_dirs[0]);
  const double second = logged_test_nll(run_dirs[1]);
  // One variant (the runs differ only in seed) with n = 2.
  EXPECT_NE(
      result.out.find(fmt::format("| all runs (baseline) | {:.4f} ± {:.4f}", (first + second) / 2,
                                  std::abs(first - second) / std::sqrt(2.0))),
      std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("n=2 |"), std::string::npos);
  // Training table: 2 runs; lm, 1 x 32 units, 88 keys: 4*32*(88+32) + 4*32 LSTM weights and
  // bias, 88*32 + 88 output layer = 18,392 parameters, read from checkpoints/best.h5.
  EXPECT_NE(result.out.find("| all runs (baseline) | JSB_Chorales | 2 | "), std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find(" | 18,392 |"), std::string::npos) << result.out;
  const std::string html = testing::slurp(dir / "report" / "report.html");
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("<polyline"), std::string::npos);  // the learning curve was drawn
}

}  // namespace
}  // namespace cadenza
