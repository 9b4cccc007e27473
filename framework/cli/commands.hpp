// Each subcommand registers itself on the root CLI11 app and returns the function that runs it.
// A subcommand lands together with the capability behind it: no placeholders.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace cadenza::cli {

// Runs the parsed subcommand and returns the process exit code.
using Action = std::function<int()>;

// Adds the subcommand to `app`; `action` is set to run it when it is the one selected.
void add_config_command(CLI::App& app, Action& action);
void add_data_command(CLI::App& app, Action& action);
void add_train_command(CLI::App& app, Action& action);
void add_eval_command(CLI::App& app, Action& action);
void add_bench_command(CLI::App& app, Action& action);
void add_compare_command(CLI::App& app, Action& action);
void add_generate_command(CLI::App& app, Action& action);
void add_sweep_command(CLI::App& app, Action& action);
void add_search_command(CLI::App& app, Action& action);
void add_reproduce_command(CLI::App& app, Action& action);

// The command line this process was started with, words joined by spaces (for manifests).
const std::string& command_line();

}  // namespace cadenza::cli
