// Run directories: layout, manifest fields, refusal to overwrite, resume, atomic metrics.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "runs/run_dir.hpp"
#include "support/process.hpp"

namespace cadenza {
namespace {

using testing::ScratchDir;

config::ResolvedConfig tiny_config(const ScratchDir& dir, const std::string& extra = "") {
  std::ofstream(dir / "tiny.json") << R"({"name": "tiny", "seed": 3)" << extra << "}";
  return config::resolve_experiment(dir / "tiny.json", {});
}

RunStart start_in(const ScratchDir& dir, ExistingRun existing = ExistingRun::kRefuse) {
  RunStart start;
  start.runs_root = dir / "runs";
  start.existing = existing;
  start.command_line = "cadenza train tiny.json";
  start.threads = resolve_thread_budget(0, 0, available_cores());
  return start;
}

nlohmann::json read_json(const std::filesystem::path& path) {
  return nlohmann::json::parse(testing::slurp(path));
}

TEST(RunDir, LayoutConfigAndManifestFields) {
  ScratchDir dir;
  const auto resolved = tiny_config(dir);
  RunDirectory run(resolved, start_in(dir));
  EXPECT_EQ(run.path(), dir / "runs" / "tiny" / resolved.run_id);
  EXPECT_EQ(read_json(run.path() / "config.json"), resolved.canonical);
  EXPECT_TRUE(std::filesystem::is_directory(run.checkpoints()));
  EXPECT_TRUE(std::filesystem::exists(run.path() / "metrics.jsonl"));
  EXPECT_EQ(testing::slurp(run.path() / "metrics.csv"), "run_id,epoch,step,split\n");
  const auto manifest = read_json(run.path() / "manifest.json");
  for (const char* field :
       {"run_id", "config_hash", "git_commit", "git_dirty", "compiler", "onednn_version",
        "onednn_isa", "tbb_version", "hdf5_version", "cpu_model", "threads", "seed", "start_time",
        "end_time", "host", "command_line", "status"}) {
    EXPECT_TRUE(manifest.contains(field)) << field;
  }
  EXPECT_EQ(manifest["status"], "running");
  EXPECT_EQ(manifest["config_hash"], resolved.hash);
  EXPECT_EQ(manifest["seed"], 3);
  EXPECT_EQ(manifest["onednn_version"].get<std::string>().substr(0, 3), "2.6");
  EXPECT_EQ(manifest["hdf5_version"].get<std::string>().substr(0, 4), "1.10");
  EXPECT_GE(manifest["threads"]["compute_openmp"].get<int>(), 1);
  EXPECT_NE(manifest["cpu_model"], "unknown");
  run.finish("completed");
  const auto finished = read_json(run.path() / "manifest.json");
  EXPECT_EQ(finished["status"], "completed");
  EXPECT_TRUE(finished["end_time"].is_string());
  EXPECT_NE(testing::slurp(run.path() / "log.txt").find("completed"), std::string::npos);
}

TEST(RunDir, CompletedRunIsNeverSilentlyOverwritten) {
  ScratchDir dir;
  const auto resolved = tiny_config(dir);
  {
    RunDirectory run(resolved, start_in(dir));
    run.metrics().append(1, 10, "valid", {{"nll", 8.5}});
    run.finish("completed");
  }
  try {
    RunDirectory again(resolved, start_in(dir));
    FAIL() << "a completed run was reopened without --force";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("already exists"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("--force"), std::string::npos);
  }
  EXPECT_EQ(RunDirectory::status_of(RunDirectory::path_for(resolved, dir / "runs")), "completed");
  RunDirectory forced(resolved, start_in(dir, ExistingRun::kOverwrite));
  EXPECT_TRUE(forced.metrics().rows().empty());
}

TEST(RunDir, ResumeKeepsMetricsAndRejectsEditedConfig) {
  ScratchDir dir;
  const auto resolved = tiny_config(dir);
  {
    RunDirectory run(resolved, start_in(dir));
    run.metrics().append(1, 10, "valid", {{"nll", 8.5}});
    run.metrics().append(2, 20, "valid", {{"nll", 8.1}});
  }
  {
    RunDirectory resumed(resolved, start_in(dir, ExistingRun::kResume));
    ASSERT_EQ(resumed.metrics().rows().size(), 2u);
    EXPECT_TRUE(resumed.manifest()["resumed"].get<bool>());
    resumed.metrics().truncate_after(10);
    EXPECT_EQ(resumed.metrics().rows().size(), 1u);
  }
  const auto path = RunDirectory::path_for(resolved, dir / "runs");
  write_file_atomic(path / "config.json", R"({"edited": true})");
  EXPECT_THROW(RunDirectory(resolved, start_in(dir, ExistingRun::kResume)), UsageError);
}

// A run started by a binary that lacked a key added since (with a default that keeps the old
// behaviour) resumes under the newer one: its config.json is compared as the run id hashes it,
// without default-valued keys. A key changed from its default is still an edit.
TEST(RunDir, ResumeAcceptsAConfigWrittenBeforeAKeyWithItsDefaultExisted) {
  ScratchDir dir;
  const auto resolved = tiny_config(dir);
  { RunDirectory run(resolved, start_in(dir)); }
  const auto path = RunDirectory::path_for(resolved, dir / "runs");
  nlohmann::json older = read_json(path / "config.json");
  ASSERT_EQ(older["model"]["lookback_bar_steps"], 0);
  older["model"].erase("lookback_bar_steps");
  older["description"] = "reworded";
  write_file_atomic(path / "config.json", older.dump(2));
  EXPECT_NO_THROW(RunDirectory(resolved, start_in(dir, ExistingRun::kResume)));
  older["model"]["hidden_size"] = older["model"]["hidden_size"].get<int>() + 1;
  write_file_atomic(path / "config.json", older.dump(2));
  EXPECT_THROW(RunDirectory(resolved, start_in(dir, ExistingRun::kResume)), UsageError);
}

TEST(Metrics, JsonlAndCsvHoldTheSameRows) {
  ScratchDir dir;
  MetricsLog log(dir / "m.jsonl", dir / "m.csv", "abc");
  log.append(1, 100, "train", {{"nll", 9.25}, {"frames_per_s", 1000.5}});
  log.append(1, 100, "valid", {{"nll", 8.5}, {"acc", 0.25}, {"note", "a,\"b\""}});
  const std::string jsonl = testing::slurp(dir / "m.jsonl");
  std::istringstream lines(jsonl);
  std::string line;
  std::vector<nlohmann::json> rows;
  while (std::getline(lines, line))
    rows.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1]["split"], "valid");
  EXPECT_EQ(rows[1]["run_id"], "abc");
  EXPECT_EQ(rows[0]["nll"], 9.25);
  EXPECT_EQ(testing::slurp(dir / "m.csv"),
            "run_id,epoch,step,split,frames_per_s,nll,acc,note\n"
            "abc,1,100,train,1000.5,9.25,,\n"
            "abc,1,100,valid,,8.5,0.25,\"a,\"\"b\"\"\"\n");
  MetricsLog reopened(dir / "m.jsonl", dir / "m.csv", "abc");
  EXPECT_EQ(reopened.rows(), log.rows());
}

TEST(AtomicFile, LeavesNoTempFilesAndFailsCleanly) {
  ScratchDir dir;
  write_file_atomic(dir / "a.txt", "one");
  write_file_atomic(dir / "a.txt", "two");
  EXPECT_EQ(testing::slurp(dir / "a.txt"), "two");
  size_t entries = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path()))
    ++entries;
  EXPECT_EQ(entries, 1u);
  EXPECT_THROW(write_file_atomic(dir / "no-such-dir" / "b.txt", "x"), Error);
}

// A writer killed with SIGKILL at random moments leaves the file either at its previous complete
// content or at the new complete content, never torn.
TEST(AtomicFile, SurvivesKillNine) {
  ScratchDir dir;
  const auto target = dir / "state.txt";
  const size_t size = 1 << 20;
  write_file_atomic(target, std::string(size, 'a'));
  for (int trial = 0; trial < 12; ++trial) {
    int first_write[2];
    ASSERT_EQ(pipe(first_write), 0);
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      for (int i = 0;; ++i) {
        write_file_atomic(target, std::string(size, static_cast<char>('a' + i % 26)));
        if (i == 0 && write(first_write[1], "w", 1) != 1) _exit(1);
      }
    }
    close(first_write[1]);
    // The kill lands a varying time after the writer's first complete write, so that it always
    // hits a writer at work (a loaded machine can take longer than any fixed delay to start it).
    pollfd wrote = {first_write[0], POLLIN, 0};
    char byte = 0;
    const bool writing = poll(&wrote, 1, 60'000) == 1 && read(first_write[0], &byte, 1) == 1;
    usleep(static_cast<useconds_t>(3000 * trial));
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    close(first_write[0]);
    ASSERT_TRUE(writing) << "trial " << trial << ": no complete write within 60 s";
    const std::string content = testing::slurp(target);
    ASSERT_EQ(content.size(), size) << "trial " << trial;
    EXPECT_EQ(content.find_first_not_of(content.front()), std::string::npos) << "torn write";
  }
}

}  // namespace
}  // namespace cadenza
