// `cadenza sweep --slurm` without a cluster: the array script it writes, what it does with
// sbatch's answer (a stand-in sbatch on PATH), and the usage errors. The real cluster's tests are
// in tests/slurm/ (ctest -L slurm).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "sweeps/slurm_array.hpp"
#include "sweeps/sweep_plan.hpp"
#include "sweeps/sweep_test_support.hpp"

namespace cadenza {
namespace {

namespace fs = std::filesystem;
using testing::last_json_line;
using testing::run_shell;
using testing::ScratchDir;

bool contains(const std::string& text, const std::string& fragment) {
  return text.find(fragment) != std::string::npos;
}

const fs::path kSmokeSweep = testing::source_dir() / "experiments" / "smoke_sweep.json";

TEST(SlurmArray, ScriptHasOneTaskPerRunAndRunsItsShardOfTheSweep) {
  ScratchDir dir;
  const SweepPlan plan = plan_sweep(kSmokeSweep);
  SlurmArrayRequest request;
  request.cadenza_binary = CADENZA_BINARY;
  request.sweeps_dir = dir / "sweeps";
  request.partition = "short";
  request.time_limit = "1:30:00";
  request.cpus_per_task = 4;
  const fs::path folder = sweep_folder(plan, request.sweeps_dir);
  const std::string script = slurm_array_script(plan, folder, request);
  for (const std::string& line : std::vector<std::string>{
           "#!/bin/bash\n", "#SBATCH --job-name=cadenza-smoke_sweep\n", "#SBATCH --array=0-3\n",
           "#SBATCH --cpus-per-task=4\n", "#SBATCH --partition=short\n", "#SBATCH --time=1:30:00\n",
           "#SBATCH --output=" + (folder / "slurm").string() + "/%A_%a.out\n",
           "#SBATCH --chdir=" + fs::current_path().string() + "\n"}) {
    EXPECT_TRUE(contains(script, line)) << line << " is not in\n" << script;
  }
  EXPECT_TRUE(contains(script, "exec '" + std::string(CADENZA_BINARY) + "' 'sweep' '" +
                                   kSmokeSweep.lexically_normal().string() + "' '--sweeps-dir' '" +
                                   request.sweeps_dir.string() +
                                   "' --shard \"${SLURM_ARRAY_TASK_ID}/4\"\n"))
      << script;

  // A task id outside the plan reaches `cadenza sweep --shard`, which refuses it.
  std::ofstream(dir / "array.sh") << script;
  const auto outside =
      run_shell("SLURM_ARRAY_TASK_ID=4 bash '" + (dir / "array.sh").string() + "'");
  EXPECT_EQ(outside.exit_code, 2);
  EXPECT_TRUE(contains(outside.err, "--shard 4/4: expected i/n with 0 <= i < n")) << outside.err;
}

// A stand-in for sbatch in `dir`/bin: records its arguments and answers like `sbatch --parsable`
// after a warning.
std::string path_with_fake_sbatch(const ScratchDir& dir) {
  fs::create_directories(dir / "bin");
  const fs::path fake = dir / "bin" / "sbatch";
  std::ofstream(fake) << "#!/bin/sh\necho \"$@\" > '" << (dir / "sbatch.args").string()
                      << "'\necho 'sbatch: warning: a warning first' >&2\necho '4242;cluster'\n";
  fs::permissions(fake, fs::perms::owner_all);
  return "PATH='" + (dir / "bin").string() + ":/usr/bin:/bin' ";
}

TEST(SlurmArray, SubmitsTheWrittenScriptAndPrintsTheJobIdWithoutWaiting) {
  ScratchDir dir;
  const auto result = run_shell(path_with_fake_sbatch(dir) + "'" + CADENZA_BINARY + "' sweep '" +
                                kSmokeSweep.string() + "' --slurm --sweeps-dir '" +
                                (dir / "sweeps").string() + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto summary = last_json_line(result.out);
  EXPECT_EQ(summary["job_id"], "4242");
  EXPECT_EQ(summary["tasks"], 4);
  const fs::path script = dir / "sweeps" / "smoke_sweep" / "slurm" / "array.sh";
  EXPECT_EQ(summary["script"], script.string());
  EXPECT_EQ(testing::slurp(dir / "sbatch.args"), "--parsable " + script.string() + "\n");
  EXPECT_TRUE(contains(testing::slurp(script), "#SBATCH --cpus-per-task=2\n"))
      << "the default matches scripts/slurm_sweep.sh";
  EXPECT_TRUE(fs::exists(dir / "sweeps" / "smoke_sweep" / "sweep.json"));
  EXPECT_TRUE(contains(result.err, "submitted Slurm job 4242, 4 array task(s)")) << result.err;
}

TEST(SlurmArray, UsageErrorsNameTheFlagAndWhatIsValid) {
  ScratchDir dir;
  const std::string sweep = "'" + std::string(CADENZA_BINARY) + "' sweep '" + kSmokeSweep.string() +
                            "' --sweeps-dir '" + (dir / "s").string() + "' ";
  const struct {
    std::string flags;
    std::string message;
  } cases[] = {
      {"--slurm --time soon", "--time 'soon': expected one of sbatch's formats"},
      {"--slurm --cpus-per-task 0", "--cpus-per-task 0: must be at least 1"},
      {"--slurm --partition 'a b'", "--partition 'a b': expected a partition name"},
      {"--partition short", "--partition requires --slurm"},
      {"--slurm --jobs 2", "excludes"},
      {"--slurm --shard 0/2", "excludes"},
      {"--slurm --status", "excludes"},
  };
  for (const auto& [flags, message] : cases) {
    const auto result = run_shell(path_with_fake_sbatch(dir) + sweep + flags);
    EXPECT_EQ(result.exit_code, 2) << flags << ": " << result.err;
    EXPECT_TRUE(contains(result.err, message)) << flags << ": " << result.err;
  }
  EXPECT_FALSE(fs::exists(dir / "sbatch.args")) << "nothing is submitted after a usage error";

  const auto no_sbatch = run_shell("PATH=/nonexistent " + sweep + "--slurm");
  EXPECT_EQ(no_sbatch.exit_code, 1) << no_sbatch.err;
  EXPECT_TRUE(contains(no_sbatch.err, "sbatch is not on PATH")) << no_sbatch.err;
}

}  // namespace
}  // namespace cadenza
