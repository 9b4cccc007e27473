// Test support for the MPI tests (ctest -L mpi): `mpirun` for N ranks on this machine.
#pragma once

#include <unistd.h>

#include <string>
#include <vector>

#include "support/process.hpp"

namespace cadenza::testing {

// `mpirun -np N` on loopback: --oversubscribe for more ranks than cores, --bind-to none so that a
// rank's thread count is the one its config sets; as root Open MPI also wants
// --allow-run-as-root (docs/scale.md#mpi).
inline std::vector<std::string> mpirun_words(int ranks) {
  std::vector<std::string> words = {"mpirun",          "-np",       std::to_string(ranks),
                                    "--oversubscribe", "--bind-to", "none"};
  if (::geteuid() == 0) words.push_back("--allow-run-as-root");
  return words;
}

// `build/cadenza ARGUMENTS` (already quoted) on N ranks.
inline CommandResult run_cadenza_ranks(int ranks, const std::string& arguments) {
  std::string command;
  for (const auto& word : mpirun_words(ranks))
    command += word + " ";
  return run_shell(command + "'" + CADENZA_BINARY + "' " + arguments);
}

}  // namespace cadenza::testing
