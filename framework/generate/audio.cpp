#include "generate/audio.hpp"

#include <fmt/format.h>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/program.hpp"

namespace cadenza {
namespace fs = std::filesystem;

fs::path find_fluidsynth() {
  return find_program("fluidsynth");
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
