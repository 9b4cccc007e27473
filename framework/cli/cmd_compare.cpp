// `cadenza compare SWEEP_DIR|RUN_DIRS... [--baseline KEY=VALUE] [--out DIR] [--metrics nll,acc]`:
// variants x datasets x metrics over seeds, paired tests against a baseline, and plots.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "experiments/compare.hpp"
#include "experiments/published.hpp"
#include "experiments/report.hpp"
#include "experiments/run_collection.hpp"

namespace cadenza::cli {
namespace {

namespace fs = std::filesystem;

// <path>/compare for a sweep or a folder of runs given alone; ./compare otherwise.
fs::path default_out_dir(const std::vector<std::string>& paths) {
  if (paths.size() == 1 && fs::is_directory(paths.front()) &&
      !fs::exists(fs::path(paths.front()) / "config.json")) {
    return fs::path(paths.front()) / "compare";
  }
  return "compare";
}

}  // namespace

void add_compare_command(CLI::App& app, Action& action) {
  struct Options {
    std::vector<std::string> paths;
    std::vector<std::string> baseline;
    std::string out;
    std::vector<std::string> metrics;
    std::string published = std::string(CADENZA_PROJECT_DIR) + "/results/published";
  };
  auto options = std::make_shared<Options>();
  CLI::App* command = app.add_subcommand(
      "compare",
      "Compare the variants of a sweep (or of run directories) over seeds: a table of means, "
      "spreads and 95% CIs, paired tests against a baseline, learning curves; writes report.md, "
      "report.csv and report.html");
  command
      ->add_option("paths", options->paths,
                   "Sweep directories (with sweep.json), run directories, or folders of runs")
      ->required();
  command
      ->add_option(
          "--baseline", options->baseline,
          "KEY=VALUE picking the baseline variant by a config key that differs between the runs "
          "(repeat to narrow it down; default: the first variant)")
      ->allow_extra_args(false);
  command->add_option("--out", options->out,
                      "Folder for report.md, report.csv and report.html (default: <SWEEP_DIR>/"
                      "compare for one sweep or folder of runs, else ./compare)");
  command
      ->add_option("--metrics", options->metrics,
                   "Test metrics to tabulate, comma-separated: nll, acc, precision, recall, f1; "
                   "for token runs nll, perplexity, acc, event_accuracy, no_event_accuracy "
                   "(default: nll,acc, or all five of a token comparison)")
      ->delimiter(',')
      ->allow_extra_args(false);
  command
      ->add_option("--published", options->published,
                   "Folder of published numbers shown beside ours")
      ->capture_default_str();
  command->callback([options, &action] {
    action = [options] {
      std::vector<fs::path> paths(options->paths.begin(), options->paths.end());
      const std::vector<RunRecord> runs = collect_runs(paths);
      CompareOptions compare_options;
      compare_options.baseline = options->baseline;
      compare_options.metrics = options->metrics;
      const Comparison comparison = compare_runs(runs, compare_options);
      const std::vector<PublishedNumber> published = load_published(options->published);
      const ReportInputs inputs{comparison, options->paths, published};
      const fs::path out =
          options->out.empty() ? default_out_dir(options->paths) : fs::path(options->out);
      write_report(inputs, out);
      std::cout << report_markdown(inputs);
      for (const ExcludedRun& excluded : comparison.excluded) {
        fmt::print(stderr, "left out of the statistics: {} ({})\n", excluded.run.dir.string(),
                   excluded.reason);
      }
      fmt::print(stderr,
                 "{} runs compared ({} left out); report written to {}/report.{{md,csv,html}}\n",
                 comparison.runs_used, comparison.excluded.size(), out.string());
      return 0;
    };
  });
}

}  // namespace cadenza::cli
