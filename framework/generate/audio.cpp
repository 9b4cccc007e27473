#include "generate/audio.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>
#include <vector>

#include "core/atomic_file.hpp"
#include "core/error.hpp"

extern char** environ;

namespace cadenza {
namespace {

namespace fs = std::filesystem;

struct ProgramRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs `program` with `arguments` (no shell), capturing its output.
ProgramRun run_program(const fs::path& program, const std::vector<std::string>& arguments) {
  int pipe_ends[2];
  if (pipe(pipe_ends) != 0) throw Error("cannot create a pipe to run " + program.string());
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addclose(&actions, pipe_ends[0]);
  posix_spawn_file_actions_adddup2(&actions, pipe_ends[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, pipe_ends[1], STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::vector<std::string> words = {program.string()};
  words.insert(words.end(), arguments.begin(), arguments.end());
  std::vector<char*> argv;
  for (std::string& word : words)
    argv.push_back(word.data());
  argv.push_back(nullptr);
  pid_t child = 0;
  const int spawned = posix_spawn(&child, program.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_ends[1]);
  ProgramRun run;
  if (spawned != 0) {
    close(pipe_ends[0]);
    throw Error(fmt::format("cannot run {}: error {}", program.string(), spawned));
  }
  char buffer[4096];
  ssize_t got = 0;
  while ((got = read(pipe_ends[0], buffer, sizeof buffer)) > 0)
    run.output.append(buffer, static_cast<size_t>(got));
  close(pipe_ends[0]);
  int status = 0;
  waitpid(child, &status, 0);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return run;
}

}  // namespace

fs::path find_fluidsynth() {
  const char* path = std::getenv("PATH");
  std::istringstream folders(path == nullptr ? "" : path);
  std::string folder;
  while (std::getline(folders, folder, ':')) {
    if (folder.empty()) continue;
    const fs::path candidate = fs::path(folder) / "fluidsynth";
    if (access(candidate.c_str(), X_OK) == 0 && fs::is_regular_file(candidate)) return candidate;
  }
  return {};
}

AudioRender render_wav(const fs::path& midi, const fs::path& wav, const fs::path& soundfont) {
  const fs::path fluidsynth = find_fluidsynth();
  if (fluidsynth.empty()) {
    return {false,
            "fluidsynth was not found on PATH, so no WAV was written; install it with "
            "`sudo apt-get install fluidsynth fluid-soundfont-gm`"};
  }
  if (!fs::is_regular_file(soundfont)) {
    return {false, fmt::format("the soundfont {} does not exist, so no WAV was written; install "
                               "Debian's with `sudo apt-get install fluid-soundfont-gm` or pass "
                               "--soundfont FILE.sf2",
                               soundfont.string())};
  }
  const fs::path temp = temp_path_for(wav);
  const ProgramRun run =
      run_program(fluidsynth, {"-ni", "-q", "-g", "0.5", "-T", "wav", "-r", "44100", "-F",
                               temp.string(), soundfont.string(), midi.string()});
  std::error_code ignored;
  if (run.exit_code != 0 || !fs::exists(temp) || fs::file_size(temp, ignored) == 0) {
    fs::remove(temp, ignored);
    throw Error(fmt::format("fluidsynth failed to render {} to {} (exit code {}): {}",
                            midi.string(), wav.string(), run.exit_code, run.output));
  }
  commit_atomic(temp, wav);
  return {true, ""};
}

}  // namespace cadenza
