// `cadenza reproduce --list` and `cadenza reproduce NAME [--tolerance PCT] [--jobs N]`: rerun a
// published setting (experiments/reproduce/NAME.json) through the sweep machinery and set our
// number against the paper's.
// Exit codes: 0 within the tolerance; 5 some run failed; 6 every run completed but our number is
// outside the tolerance.
#include <fmt/format.h>

#include <algorithm>
#include <memory>

#include "cli/commands.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/interrupt.hpp"
#include "experiments/published.hpp"
#include "experiments/reproduction.hpp"
#include "experiments/reproduction_verdict.hpp"
#include "sweeps/sweep_plan.hpp"
#include "sweeps/sweep_runner.hpp"

namespace cadenza::cli {
namespace {

namespace fs = std::filesystem;

constexpr int kExitRunsFailed = 5;
constexpr int kExitMissedPublished = 6;

// The first sentence of a description, for one-line listings.
std::string first_sentence(const std::string& text) {
  const auto end = text.find(". ");
  return end == std::string::npos ? text : text.substr(0, end + 1);
}

int print_list(const std::vector<Reproduction>& reproductions, const fs::path& published_dir) {
  const auto published = load_published(published_dir);
  size_t name_width = 4;
  for (const auto& reproduction : reproductions)
    name_width = std::max(name_width, reproduction.name.size());
  fmt::print("{:<{}}  {:>4}  {:<34}  {:>9}  {:>5}  {}\n", "name", name_width, "runs",
             "published target", "value", "tol %", "description");
  for (const auto& reproduction : reproductions) {
    const auto& target = reproduction.target;
    const PublishedNumber& number = find_published(published, target.published_id, target.dataset);
    const SweepPlan plan = plan_sweep(reproduction.experiment);
    judged_runs(plan, target, reproduction.experiment.string());
    fmt::print("{:<{}}  {:>4}  {:<34}  {:>9}  {:>5.1f}  {}\n", reproduction.name, name_width,
               plan.runs.size(), fmt::format("{} on {}", target.published_id, target.dataset),
               fmt::format("{:.2f}{}", number.value, number.verified ? "" : " (?)"),
               target.tolerance_pct, first_sentence(reproduction.description));
  }
  fmt::print("(?) = recalled, not verified against the source (results/published/)\n");
  return 0;
}

}  // namespace

void add_reproduce_command(CLI::App& app, Action& action) {
  struct Options {
    std::string name;
    bool list = false;
    double tolerance_pct = 0.0;
    int jobs = 1;
    std::string experiments_dir = "experiments/reproduce";
    std::string published_dir = "results/published";
    std::string sweeps_dir = "results/sweeps";
  };
  auto options = std::make_shared<Options>();
  CLI::App* command = app.add_subcommand(
      "reproduce",
      "Rerun a published setting (resumably, as a sweep) and compare our test nll with the "
      "paper's; --list shows them");
  command->add_option("name", options->name, "Reproduction: a file stem of --experiments-dir");
  command->add_flag("--list", options->list, "List the reproductions and their targets");
  CLI::Option* tolerance =
      command->add_option("--tolerance", options->tolerance_pct,
                          "Accepted relative difference in percent (default: the file's "
                          "reproduces.tolerance_pct, else 2)");
  command->add_option("--jobs", options->jobs, "Runs trained at once (see cadenza sweep)")
      ->capture_default_str();
  command
      ->add_option("--experiments-dir", options->experiments_dir,
                   "Folder of the reproduction experiments")
      ->capture_default_str();
  command->add_option("--published-dir", options->published_dir, "Folder of the published numbers")
      ->capture_default_str();
  command->add_option("--sweeps-dir", options->sweeps_dir, "Root of the sweep folders")
      ->capture_default_str();
  command->callback([options, tolerance, &action] {
    const bool tolerance_given = tolerance->count() > 0;
    action = [options, tolerance_given] {
      if (options->list == !options->name.empty()) {
        throw UsageError("cadenza reproduce needs exactly one of --list or a NAME");
      }
      if (options->jobs < 1) {
        throw UsageError(fmt::format("--jobs {}: must be at least 1", options->jobs));
      }
      if (tolerance_given && options->tolerance_pct <= 0.0) {
        throw UsageError(
            fmt::format("--tolerance {}: must be > 0 (percent)", options->tolerance_pct));
      }
      const auto reproductions = list_reproductions(options->experiments_dir);
      if (options->list) return print_list(reproductions, options->published_dir);

      const Reproduction& reproduction = find_reproduction(reproductions, options->name);
      const ReproductionTarget& target = reproduction.target;
      const auto published = load_published(options->published_dir);
      const PublishedNumber& number =
          find_published(published, target.published_id, target.dataset);
      if (number.metric != "test_nll") {
        throw ConfigError(fmt::format(
            "{}: published entry {} on {} reports '{}'; reproduce compares test_nll only",
            reproduction.experiment.string(), number.id, number.dataset, number.metric));
      }
      const SweepPlan plan = plan_sweep(reproduction.experiment);
      const auto judged = judged_runs(plan, target, reproduction.experiment.string());
      const fs::path folder = sweep_folder(plan, options->sweeps_dir);
      write_sweep_document(plan, folder);

      SweepOptions sweep;
      sweep.jobs = options->jobs;
      sweep.cadenza_binary = fs::read_symlink("/proc/self/exe");
      // As in `cadenza sweep`: SIGTERM (Slurm's preemption) or SIGINT checkpoints the workers.
      InterruptHandlers interrupt_handlers;
      const SweepResult result = run_sweep(plan, folder, sweep);
      if (!result.complete()) {
        fmt::print(stderr,
                   "reproduce {}: {} of {} runs failed; `cadenza sweep {} --status` lists them\n",
                   reproduction.name, result.failed.size(), result.runs.size(),
                   reproduction.experiment.string());
        return kExitRunsFailed;
      }
      const double tolerance_pct = tolerance_given ? options->tolerance_pct : target.tolerance_pct;
      const ReproductionVerdict verdict =
          judge_reproduction(plan, folder, judged, number, tolerance_pct);
      const std::string verdict_line = verdict_json(reproduction, verdict).dump();
      // The verdict is kept beside the runs it rests on, so a committed study folder carries it.
      write_file_atomic(folder / "verdict.json", verdict_line + "\n");
      fmt::print("{}", format_verdict(reproduction, verdict));
      fmt::print("{}\n", verdict_line);
      return verdict.within ? 0 : kExitMissedPublished;
    };
  });
}

}  // namespace cadenza::cli
