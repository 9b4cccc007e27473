// `cadenza reproduce --list` and `cadenza reproduce NAME [--tolerance PCT] [--jobs N]`: rerun a
// published setting (experiments/reproduce/NAME.json) through the sweep machinery and set our
// number against the paper's. An experiment with a `search` block is reproduced by its search
// (search/search_runner.hpp): the verdict rests on the confirmation runs of the best trial, whose
// seeds took no part in the choice.
// Exit codes: 0 within the tolerance; 5 some run failed; 6 every run completed but our number is
// outside the tolerance.
#include <fmt/format.h>

#include <algorithm>
#include <memory>

#include "cli/commands.hpp"
#include "config/resolve.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/interrupt.hpp"
#include "experiments/published.hpp"
#include "experiments/reproduction.hpp"
#include "experiments/reproduction_verdict.hpp"
#include "experiments/search_report.hpp"
#include "search/search_confirm.hpp"
#include "search/search_plan.hpp"
#include "search/search_runner.hpp"
#include "sweeps/run_state.hpp"
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

bool has_search(const Reproduction& reproduction) {
  return config::load_experiment(reproduction.experiment).contains("search");
}

// The runs a reproduction trains: its sweep's, or its search's trials and confirmation runs.
size_t planned_run_count(const Reproduction& reproduction) {
  if (!has_search(reproduction)) {
    const SweepPlan plan = plan_sweep(reproduction.experiment);
    judged_runs(plan, reproduction.target, reproduction.experiment.string());
    return plan.runs.size();
  }
  const SearchPlan plan = plan_search(reproduction.experiment);
  judged_runs(plan.runs, reproduction.target, reproduction.experiment.string());
  return plan.runs.runs.size() +
         plan.variants.size() * static_cast<size_t>(plan.spec.confirm_seeds);
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
    fmt::print("{:<{}}  {:>4}  {:<34}  {:>9}  {:>5.1f}  {}\n", reproduction.name, name_width,
               planned_run_count(reproduction),
               fmt::format("{} on {}", target.published_id, target.dataset),
               fmt::format("{:.2f}{}", number.value, number.verified ? "" : " (?)"),
               target.tolerance_pct, first_sentence(reproduction.description));
  }
  fmt::print("(?) = recalled, not verified against the source (results/published/)\n");
  return 0;
}

// Trains the search of `reproduction` in <sweeps_dir>/<name>/ (resumably, as `cadenza search`
// does, and writes its report), then returns the confirmation runs and their folder for the
// verdict; `failed` is set when a variant has no best trial or a confirmation run failed.
struct SearchedRuns {
  SweepPlan confirmation;
  fs::path folder;
  bool failed = false;
};

SearchedRuns run_reproduction_search(const Reproduction& reproduction, const SweepOptions& sweep,
                                     const fs::path& sweeps_dir) {
  const std::string origin = reproduction.experiment.string();
  const SearchPlan plan = plan_search(reproduction.experiment);
  if (plan.spec.confirm_seeds == 0) {
    throw ConfigError(fmt::format(
        "{}: a reproduction by search needs search.confirm (e.g. {{\"seeds\": 5}}): the verdict "
        "rests on the best trial trained again with fresh seeds, never on the trials that chose it",
        origin));
  }
  judged_runs(plan.runs, reproduction.target, origin);
  const fs::path folder = search_folder(plan, sweeps_dir);
  write_search_document(plan, folder);
  const SearchResult result = run_search(plan, folder, sweep);
  write_search_report(read_search_report(plan, folder), folder);
  SearchedRuns searched;
  searched.confirmation = plan_confirmation(plan, result.tables);
  searched.folder = confirmation_folder(folder);
  for (const VariantTable& table : result.tables)
    searched.failed = searched.failed || !table.best.has_value();
  for (const PlannedRun& run : searched.confirmation.runs) {
    const RunState state = read_run_status(run_files(searched.folder, run), searched.folder).state;
    searched.failed = searched.failed || state != RunState::kDone;
  }
  return searched;
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
      SweepOptions sweep;
      sweep.jobs = options->jobs;
      sweep.cadenza_binary = fs::read_symlink("/proc/self/exe");
      // As in `cadenza sweep`: SIGTERM (Slurm's preemption) or SIGINT checkpoints the workers.
      InterruptHandlers interrupt_handlers;
      SweepPlan plan;
      fs::path folder;
      fs::path verdict_folder;
      if (has_search(reproduction)) {
        SearchedRuns searched = run_reproduction_search(reproduction, sweep, options->sweeps_dir);
        if (searched.failed) {
          fmt::print(stderr,
                     "reproduce {}: the search has a variant without a best trial or a failed "
                     "confirmation run; `cadenza search {} --status --searches-dir {}` shows it\n",
                     reproduction.name, reproduction.experiment.string(), options->sweeps_dir);
          return kExitRunsFailed;
        }
        plan = std::move(searched.confirmation);
        folder = searched.folder;
        verdict_folder = folder.parent_path();
      } else {
        plan = plan_sweep(reproduction.experiment);
        judged_runs(plan, target, reproduction.experiment.string());
        folder = sweep_folder(plan, options->sweeps_dir);
        verdict_folder = folder;
        write_sweep_document(plan, folder);
        const SweepResult result = run_sweep(plan, folder, sweep);
        if (!result.complete()) {
          fmt::print(stderr,
                     "reproduce {}: {} of {} runs failed; `cadenza sweep {} --status` lists them\n",
                     reproduction.name, result.failed.size(), result.runs.size(),
                     reproduction.experiment.string());
          return kExitRunsFailed;
        }
      }
      const auto judged = judged_runs(plan, target, reproduction.experiment.string());
      const double tolerance_pct = tolerance_given ? options->tolerance_pct : target.tolerance_pct;
      const ReproductionVerdict verdict =
          judge_reproduction(plan, folder, judged, number, tolerance_pct);
      const std::string verdict_line = verdict_json(reproduction, verdict).dump();
      // The verdict is kept beside the runs it rests on, so a committed study folder carries it.
      write_file_atomic(verdict_folder / "verdict.json", verdict_line + "\n");
      fmt::print("{}", format_verdict(reproduction, verdict));
      fmt::print("{}\n", verdict_line);
      return verdict.within ? 0 : kExitMissedPublished;
    };
  });
}

}  // namespace cadenza::cli
