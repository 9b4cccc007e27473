#include "sweeps/slurm_array.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <regex>
#include <vector>

#include "core/atomic_file.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/program.hpp"

namespace cadenza {
namespace fs = std::filesystem;

namespace {

// `word` as one POSIX shell word: single-quoted, each ' written as '\''.
std::string shell_quoted(const std::string& word) {
  std::string quoted = "'";
  for (const char c : word) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

// A path for an #SBATCH line, which sbatch splits at whitespace.
std::string directive_path(const fs::path& path, const char* what) {
  const std::string text = fs::absolute(path).lexically_normal().string();
  if (std::any_of(text.begin(), text.end(), [](unsigned char c) { return std::isspace(c); })) {
    throw UsageError(fmt::format(
        "--slurm: the {} '{}' contains whitespace, which an #SBATCH line cannot hold; use a "
        "folder without spaces",
        what, text));
  }
  return text;
}

}  // namespace

void check_slurm_request(const SlurmArrayRequest& request) {
  if (request.cpus_per_task < 1) {
    throw UsageError(fmt::format("--cpus-per-task {}: must be at least 1", request.cpus_per_task));
  }
  static const std::regex partition_names(R"([A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+)*)");
  if (!request.partition.empty() && !std::regex_match(request.partition, partition_names)) {
    throw UsageError(fmt::format(
        "--partition '{}': expected a partition name or a comma list of them (letters, digits, "
        "'_', '.', '-')",
        request.partition));
  }
  static const std::regex time_limits(R"(\d+(:\d+){0,2}|\d+-\d+(:\d+){0,2}|UNLIMITED|INFINITE)");
  if (!request.time_limit.empty() && !std::regex_match(request.time_limit, time_limits)) {
    throw UsageError(fmt::format(
        "--time '{}': expected one of sbatch's formats: minutes, minutes:seconds, "
        "hours:minutes:seconds, days-hours, days-hours:minutes, days-hours:minutes:seconds (e.g. "
        "90, 1:30:00, 2-12)",
        request.time_limit));
  }
}

std::string slurm_array_script(const SweepPlan& plan, const fs::path& folder,
                               const SlurmArrayRequest& request) {
  check_slurm_request(request);
  const size_t tasks = plan.runs.size();
  const fs::path script = folder / "slurm" / "array.sh";
  std::vector<std::string> directives = {
      fmt::format("--job-name=cadenza-{}", plan.name), fmt::format("--array=0-{}", tasks - 1),
      fmt::format("--cpus-per-task={}", request.cpus_per_task),
      fmt::format("--output={}/%A_%a.out", directive_path(folder / "slurm", "sweep folder")),
      fmt::format("--chdir={}", directive_path(fs::current_path(), "working directory"))};
  if (!request.partition.empty()) directives.push_back("--partition=" + request.partition);
  if (!request.time_limit.empty()) directives.push_back("--time=" + request.time_limit);

  std::vector<std::string> command = {fs::absolute(request.cadenza_binary).string(), "sweep",
                                      fs::absolute(plan.experiment).lexically_normal().string(),
                                      "--sweeps-dir",
                                      fs::absolute(request.sweeps_dir).lexically_normal().string()};
  if (request.retry_failed) command.push_back("--retry-failed");
  std::vector<std::string> quoted;
  for (const auto& word : command)
    quoted.push_back(shell_quoted(word));

  std::string text = fmt::format(
      "#!/bin/bash\n"
      "# Written by `cadenza sweep --slurm` at {}: sweep {}, {} runs, one per array task.\n"
      "# Task i trains shard i/{} of the plan; rerun some tasks with sbatch --array=i,j {}\n",
      utc_timestamp(), plan.name, tasks, tasks, fs::absolute(script).lexically_normal().string());
  for (const auto& directive : directives)
    text += "#SBATCH " + directive + "\n";
  text += fmt::format("set -euo pipefail\nexec {} --shard \"${{SLURM_ARRAY_TASK_ID}}/{}\"\n",
                      fmt::join(quoted, " "), tasks);
  return text;
}

SlurmSubmission submit_slurm_array(const SweepPlan& plan, const fs::path& folder,
                                   const SlurmArrayRequest& request) {
  const std::string text = slurm_array_script(plan, folder, request);
  const fs::path sbatch = find_program("sbatch");
  if (sbatch.empty()) {
    throw Error(
        "--slurm: sbatch is not on PATH: run this on a Slurm login node, or start the local "
        "test cluster (scripts/setup.sh --with-slurm, then scripts/slurm_local.sh start)");
  }
  SlurmSubmission submission;
  submission.script = folder / "slurm" / "array.sh";
  submission.tasks = plan.runs.size();
  fs::create_directories(submission.script.parent_path());
  write_file_atomic(submission.script, text);
  fs::permissions(submission.script, fs::perms::owner_exec, fs::perm_options::add);
  const ProgramRun run = run_program(sbatch, {"--parsable", submission.script.string()});
  // --parsable prints "<job id>" or "<job id>;<cluster>" as its last line (warnings come first).
  std::string last_line = run.output;
  while (!last_line.empty() && last_line.back() == '\n')
    last_line.pop_back();
  last_line = last_line.substr(last_line.rfind('\n') + 1);
  submission.job_id = last_line.substr(0, last_line.find(';'));
  const bool numeric =
      !submission.job_id.empty() && std::all_of(submission.job_id.begin(), submission.job_id.end(),
                                                [](unsigned char c) { return std::isdigit(c); });
  if (run.exit_code != 0 || !numeric) {
    throw Error(fmt::format("sbatch refused {} (exit code {}): {}", submission.script.string(),
                            run.exit_code, run.output));
  }
  return submission;
}

}  // namespace cadenza
