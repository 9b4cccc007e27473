// `cadenza train EXPERIMENT [key.path=value ...]` and `cadenza train --resume RUN_DIR`.
#include <fmt/format.h>

#include <algorithm>
#include <memory>

#include "cli/commands.hpp"
#include "config/resolve.hpp"
#include "config/sweep.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/interrupt.hpp"
#include "core/threads.hpp"
#include "runs/run_dir.hpp"
#include "train/preflight.hpp"
#include "train/trainer.hpp"

namespace cadenza::cli {
namespace {

// `cadenza train` on an experiment that declares a `sweep` trains one config of it: the file's
// base values plus the overrides given. Says so unless the overrides set every axis key (as the
// workers of `cadenza sweep` do).
void note_sweep(const std::string& experiment, const std::vector<std::string>& overrides) {
  const config::Json merged = config::load_experiment(experiment);
  if (!merged.contains("sweep")) return;
  const config::SweepSpec spec = config::parse_sweep(merged["sweep"], experiment);
  for (const auto& axis : spec.axes) {
    for (const auto& key : axis.keys) {
      const bool set = std::any_of(overrides.begin(), overrides.end(),
                                   [&](const std::string& o) { return o.starts_with(key + "="); });
      if (set) continue;
      fmt::print(stderr,
                 "note: {} declares a sweep of {} runs; this trains one config (the file's base "
                 "values plus the overrides given; '{}' keeps its base value). `cadenza sweep {}` "
                 "trains them all.\n",
                 experiment, spec.run_count(), key, experiment);
      return;
    }
  }
}

}  // namespace

void add_train_command(CLI::App& app, Action& action) {
  struct Options {
    std::string experiment;
    std::vector<std::string> overrides;
    std::string resume;
    std::string runs_dir = "results/runs";
    bool force = false;
  };
  auto options = std::make_shared<Options>();
  CLI::App* command = app.add_subcommand(
      "train", "Train the model an experiment describes; outputs go to RUNS_DIR/<name>/<run-id>/");
  command->add_option("experiment", options->experiment, "Experiment JSON file");
  command->add_option("overrides", options->overrides, "Overrides key.path=value after the file");
  command->add_option("--resume", options->resume,
                      "Continue the run in this directory from its newest valid checkpoint");
  command->add_option("--runs-dir", options->runs_dir, "Root of the run directories")
      ->capture_default_str();
  command->add_flag("--force", options->force, "Start afresh even if the run directory exists");
  command->callback([options, &action] {
    action = [options] {
      // From here on SIGINT and SIGTERM stop the run at a safe point (core/interrupt.hpp).
      InterruptHandlers interrupt_handlers;
      config::ResolvedConfig resolved;
      RunStart start;
      start.command_line = command_line();
      if (!options->resume.empty()) {
        if (!options->experiment.empty() || options->force) {
          throw UsageError(
              "cadenza train --resume RUN_DIR takes no experiment file and no --force");
        }
        const std::filesystem::path run_dir = options->resume;
        const auto config_file = run_dir / "config.json";
        if (!std::filesystem::exists(config_file)) {
          throw UsageError(
              fmt::format("--resume {}: no config.json there; pass a run directory "
                          "(results/runs/<experiment>/<run-id>)",
                          run_dir.string()));
        }
        resolved = config::resolve_experiment(config_file, options->overrides);
        start.runs_root = run_dir.parent_path().parent_path();
        if (resolved.run_id != run_dir.filename().string() ||
            resolved.config.name != run_dir.parent_path().filename().string()) {
          throw UsageError(
              fmt::format("--resume {}: the overrides change the config, so it is no "
                          "longer this run (its id would be {})",
                          run_dir.string(), resolved.run_id));
        }
        start.existing = ExistingRun::kResume;
      } else {
        if (options->experiment.empty()) {
          throw UsageError("cadenza train needs an experiment file (or --resume RUN_DIR)");
        }
        resolved = config::resolve_experiment(options->experiment, options->overrides);
        note_sweep(options->experiment, options->overrides);
        start.runs_root = options->runs_dir;
        start.existing = options->force ? ExistingRun::kOverwrite : ExistingRun::kRefuse;
      }
      const auto run_path = RunDirectory::path_for(resolved, start.runs_root);
      if (start.existing == ExistingRun::kRefuse &&
          RunDirectory::status_of(run_path) == "completed") {
        fmt::print(stderr,
                   "run {} of '{}' is already completed at {}; its metrics are in "
                   "metrics.jsonl there (pass --force to train it again)\n",
                   resolved.run_id, resolved.config.name, run_path.string());
        fmt::print("{}\n", nlohmann::json{{"run_dir", run_path.string()},
                                          {"run_id", resolved.run_id},
                                          {"status", "completed"}}
                               .dump());
        return 0;
      }
      const auto& threads = resolved.config.threads;
      start.threads = resolve_thread_budget(threads.compute, threads.loader, available_cores());
      ThreadScope scope(start.threads);
      // Everything that can fail before training is checked before the run directory is written.
      Dataset dataset = load_run_dataset(resolved);
      const RunSize size = check_run_can_start(resolved, dataset, run_path);
      start.parameters = size.parameters;
      start.memory_estimate_bytes = size.memory.total();
      if (const int signal = interrupt_signal(); signal != 0) {
        throw Interrupted(signal, fmt::format("{} received before run {} started; nothing was "
                                              "written",
                                              signal_name(signal), resolved.run_id));
      }
      RunDirectory run(resolved, start);
      try {
        const TrainOutcome outcome =
            train_run(resolved, std::move(dataset), run, start.threads.loader);
        run.finish("completed");
        fmt::print("{}\n", nlohmann::json{{"run_dir", run.path().string()},
                                          {"run_id", resolved.run_id},
                                          {"best_epoch", outcome.best_epoch},
                                          {"steps", outcome.steps},
                                          {"test", outcome.test}}
                               .dump());
        return 0;
      } catch (const Interrupted& e) {
        run.finish("interrupted", e.what());
        throw;
      } catch (const std::exception& e) {
        run.finish("failed", e.what());
        throw;
      }
    };
  });
}

}  // namespace cadenza::cli
