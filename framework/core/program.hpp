// Running another program (fluidsynth, sbatch): found on $PATH, started without a shell, its
// output captured.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace cadenza {

struct ProgramRun {
  int exit_code = -1;  // its exit code, or 128 + the signal that killed it
  std::string output;  // stdout and stderr, interleaved
};

// The executable `name` in a folder of $PATH, or an empty path when there is none.
std::filesystem::path find_program(std::string_view name);

// Runs `program` with `arguments` (no shell), stdin from /dev/null, and waits for it. Throws Error
// naming the program when it cannot be started.
ProgramRun run_program(const std::filesystem::path& program,
                       const std::vector<std::string>& arguments);

}  // namespace cadenza
