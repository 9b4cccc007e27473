// `cadenza config`: explain the schema, or print the fully resolved config of an experiment.
#include <fmt/format.h>

#include <iostream>

#include "cli/commands.hpp"
#include "config/resolve.hpp"
#include "core/error.hpp"
#include "sweeps/sweep_plan.hpp"

namespace cadenza::cli {

void add_config_command(CLI::App& app, Action& action) {
  struct Options {
    bool explain = false;
    bool markdown = false;
    std::string dump_file;
    std::vector<std::string> overrides;
  };
  auto options = std::make_shared<Options>();
  CLI::App* command = app.add_subcommand(
      "config", "Explain every config key, or print an experiment's fully resolved config");
  command->add_flag("--explain", options->explain, "List every config key with its help");
  command->add_flag("--markdown", options->markdown, "With --explain: print a Markdown table");
  command->add_option("--dump", options->dump_file,
                      "Print the resolved config of this experiment file (after extends and "
                      "overrides) as JSON; its run id goes to stderr");
  command->add_option("overrides", options->overrides,
                      "Overrides key.path=value applied after the file (with --dump)");
  command->callback([options, &action] {
    action = [options] {
      if (options->explain == !options->dump_file.empty()) {
        throw UsageError("cadenza config needs exactly one of --explain or --dump FILE");
      }
      if (options->explain) {
        if (!options->overrides.empty()) {
          throw UsageError("cadenza config --explain takes no overrides");
        }
        std::cout << config::explain_schema(options->markdown);
        return 0;
      }
      const auto resolved = config::resolve_experiment(options->dump_file, options->overrides);
      std::cout << resolved.canonical.dump(2) << "\n";
      fmt::print(stderr, "run id {} (config sha256 {})\n", resolved.run_id, resolved.hash);
      if (config::load_experiment(options->dump_file).contains("sweep")) {
        // Validates every run of the sweep exactly as `cadenza sweep` will resolve it.
        const SweepPlan plan = plan_sweep(options->dump_file);
        fmt::print(stderr, "sweep of {} runs (the config above is its base, without the axes):\n",
                   plan.runs.size());
        for (const auto& run : plan.runs) {
          fmt::print(stderr, "  {}  seed {}  {}\n", run.run_id(), run.resolved.config.seed,
                     run.variant);
        }
      }
      return 0;
    };
  });
}

}  // namespace cadenza::cli
