// cadenza's entry point: parses the command line with CLI11 and maps errors to exit codes.
// Exit codes: 0 success; 1 internal or I/O failure; 2 usage or config error; 3 bad input file
// (dataset, MIDI, checkpoint); 4 numerical failure (NaN/Inf) in training; 5 a sweep (or
// reproduce) ended with failed runs; 6 reproduce ran but missed the published number; 130 / 143
// stopped by SIGINT / SIGTERM after a checkpoint (core/interrupt.hpp). A run on several MPI ranks
// ends them all: with its code, or by aborting every rank with the code of a failure.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <exception>

#include "cli/commands.hpp"
#include "core/allocator.hpp"
#include "core/error.hpp"
#include "core/interrupt.hpp"
#include "distributed/communicator.hpp"

namespace {

std::string& mutable_command_line() {
  static std::string line;
  return line;
}

int run(int argc, char** argv) {
  // The program is recorded by name, not by its path: run records are committed, and the
  // binary's location is a fact about one machine (the manifest names the commit instead).
  mutable_command_line() = "cadenza";
  for (int i = 1; i < argc; ++i)
    mutable_command_line() += " " + std::string(argv[i]);
  CLI::App app{"cadenza: reproducible LSTM encoder-decoder experiments for symbolic music"};
  app.require_subcommand(1);
  app.set_version_flag("--version", CADENZA_VERSION);
  cadenza::cli::Action action;
  cadenza::cli::add_config_command(app, action);
  cadenza::cli::add_data_command(app, action);
  cadenza::cli::add_train_command(app, action);
  cadenza::cli::add_eval_command(app, action);
  cadenza::cli::add_bench_command(app, action);
  cadenza::cli::add_compare_command(app, action);
  cadenza::cli::add_generate_command(app, action);
  cadenza::cli::add_sweep_command(app, action);
  cadenza::cli::add_search_command(app, action);
  cadenza::cli::add_reproduce_command(app, action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    const auto subcommands = app.get_subcommands([](CLI::App*) { return true; });
    if (argc > 1 && argv[1][0] != '-' &&
        std::none_of(subcommands.begin(), subcommands.end(),
                     [&](CLI::App* sub) { return sub->get_name() == argv[1]; })) {
      std::vector<std::string> names;
      for (const CLI::App* sub : subcommands)
        names.push_back(sub->get_name());
      fmt::print(stderr, "usage error: unknown subcommand '{}'; valid: {}\n", argv[1],
                 fmt::join(names, ", "));
      return 2;
    }
    app.exit(e);
    return 2;
  }
  return action();
}

}  // namespace

const std::string& cadenza::cli::command_line() {
  return mutable_command_line();
}

namespace {

// The exit code of the command: its own, or the one its error maps to.
int exit_code(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const cadenza::ConfigError& e) {
    fmt::print(stderr, "config error: {}\n", e.what());
    return 2;
  } catch (const cadenza::UsageError& e) {
    fmt::print(stderr, "usage error: {}\n", e.what());
    return 2;
  } catch (const cadenza::InputError& e) {
    fmt::print(stderr, "input error: {}\n", e.what());
    return 3;
  } catch (const cadenza::NumericError& e) {
    fmt::print(stderr, "numerical error: {}\n", e.what());
    return 4;
  } catch (const cadenza::Interrupted& e) {
    fmt::print(stderr, "interrupted: {}\n", e.what());
    return 128 + e.signal();
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  cadenza::keep_freed_memory_for_reuse();
  const int code = exit_code(argc, argv);
  // A run on several MPI ranks ends them all, with this code when it failed.
  cadenza::Communicator::finish(code);
  return code;
}
