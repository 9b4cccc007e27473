// Test support for the Slurm tests (ctest -L slurm): a fixture that starts a one-node cluster on
// localhost with scripts/slurm_local.sh before each test and stops it after, and helpers that ask
// that cluster about jobs. The packages come from the ctest fixture `slurm_packages`
// (scripts/setup.sh --with-slurm --packages-only).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include "support/process.hpp"
#include "support/wait.hpp"

namespace cadenza::testing {

// How often a test asks Slurm (each question starts squeue or scontrol).
inline constexpr std::chrono::milliseconds kSlurmPoll{250};

inline std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.pop_back();
  return text;
}

// Each test gets a cluster of its own: its folder in the test's scratch dir, its ports from the
// test's pid (so that two test trees on one machine do not meet), SLURM_CONF set for every
// program the test starts (sbatch, squeue, and cadenza, which runs sbatch).
class SlurmCluster : public ::testing::Test {
 protected:
  void SetUp() override {
    const int port = 20000 + 2 * static_cast<int>(::getpid() % 10000);
    environment_ = "CADENZA_SLURM_DIR='" + cluster_dir().string() +
                   "' CADENZA_SLURM_PORT=" + std::to_string(port) + " ";
    const auto started = run_shell(environment_ + script() + " start");
    ASSERT_EQ(started.exit_code, 0) << started.out << started.err;
    ::setenv("SLURM_CONF", (cluster_dir() / "slurm.conf").c_str(), 1);
    ASSERT_EQ(started.out, "SLURM_CONF=" + (cluster_dir() / "slurm.conf").string() + "\n");
  }

  void TearDown() override {
    const auto stopped = run_shell(environment_ + script() + " stop");
    EXPECT_EQ(stopped.exit_code, 0) << stopped.out << stopped.err;
    EXPECT_FALSE(std::filesystem::exists(cluster_dir())) << "stop leaves no cluster folder";
    ::unsetenv("SLURM_CONF");
  }

  std::filesystem::path cluster_dir() const { return scratch_ / "cluster"; }
  static std::string script() {
    return "'" + (source_dir() / "scripts" / "slurm_local.sh").string() + "'";
  }

  // `sbatch --parsable ARGUMENTS` (already quoted): the job id.
  std::string submit(const std::string& arguments) const {
    const auto submitted = run_shell("sbatch --parsable " + arguments);
    EXPECT_EQ(submitted.exit_code, 0) << submitted.out << submitted.err;
    return trimmed(submitted.out);
  }

  // The JobState of job (or array task) `id`, e.g. "RUNNING", "COMPLETED", "CANCELLED"; "" once
  // Slurm has forgotten it.
  static std::string job_state(const std::string& id) {
    const auto shown = run_shell("scontrol show job '" + id + "'");
    const auto at = shown.out.find("JobState=");
    if (at == std::string::npos) return "";
    const auto start = at + std::string("JobState=").size();
    return shown.out.substr(start, shown.out.find(' ', start) - start);
  }

  // Whether squeue still lists any task of job `id` (pending or running).
  static bool job_listed(const std::string& id) {
    return !trimmed(run_shell("squeue -h -j '" + id + "' -o %i").out).empty();
  }

  static bool wait_for_job_end(const std::string& id, std::chrono::seconds limit) {
    return wait_until([&] { return !job_listed(id); }, limit, kSlurmPoll);
  }

  static bool wait_for_state(const std::string& id, const std::string& state,
                             std::chrono::seconds limit) {
    return wait_until([&] { return job_state(id) == state; }, limit, kSlurmPoll);
  }

  ScratchDir scratch_;
  std::string environment_;
};

}  // namespace cadenza::testing
