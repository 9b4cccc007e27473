// A 2-rank training through the local Slurm: a job of 2 tasks trains one run with
// `srun --mpi=pmix cadenza train` (Debian's Slurm has the pmix plugin, its Open MPI the PMIx
// client), then again with `mpirun` inside the same allocation; both runs equal, bit for bit, one
// process computing the 2 shares (docs/scale.md#mpi).
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "config/resolve.hpp"
#include "slurm/slurm_test_support.hpp"
#include "sweeps/sweep_test_support.hpp"

namespace cadenza {
namespace {

namespace fs = std::filesystem;
using testing::expect_same_weights;
using testing::last_json_line;
using testing::metrics_without_timings;
using testing::read_json;
using testing::SlurmCluster;

TEST_F(SlurmCluster, TwoRankTrainingInAJobEqualsTwoSharesOnOneProcess) {
  const fs::path dir = scratch_.path();
  const fs::path experiment = testing::smoke_experiment(
      scratch_, "allocated", R"(, "threads": {"compute": 1}, "train": {"epochs": 2})");
  const auto reference = testing::run_cadenza("train '" + experiment.string() + "' --runs-dir '" +
                                              (dir / "reference").string() + "' --batch-shares 2");
  ASSERT_EQ(reference.exit_code, 0) << reference.err;
  const fs::path reference_dir = last_json_line(reference.out)["run_dir"].get<std::string>();

  const std::string train =
      "'" + std::string(CADENZA_BINARY) + "' train '" + experiment.string() + "' --runs-dir ";
  const std::string as_root = ::geteuid() == 0 ? " --allow-run-as-root" : "";
  const std::string job =
      submit("--ntasks=2 --cpus-per-task=1 --output='" + (dir / "job-%j.out").string() +
             "' --wrap \"" + "srun --mpi=pmix " + train + "'" + (dir / "srun").string() +
             "' && mpirun" + as_root + " " + train + "'" + (dir / "mpirun").string() + "'\"");
  ASSERT_TRUE(wait_for_job_end(job, std::chrono::seconds(300))) << "job " << job << " did not end";
  EXPECT_EQ(job_state(job), "COMPLETED") << testing::slurp(dir / ("job-" + job + ".out"));

  const auto resolved = config::resolve_experiment(experiment, {});
  for (const char* launcher : {"srun", "mpirun"}) {
    const fs::path run_dir = dir / launcher / "allocated" / resolved.run_id;
    const auto manifest = read_json(run_dir / "manifest.json");
    EXPECT_EQ(manifest["status"], "completed") << launcher;
    EXPECT_EQ(manifest["data_parallel"]["ranks"], 2) << launcher;
    EXPECT_EQ(metrics_without_timings(run_dir), metrics_without_timings(reference_dir)) << launcher;
    expect_same_weights(run_dir, reference_dir);
  }
}

}  // namespace
}  // namespace cadenza
