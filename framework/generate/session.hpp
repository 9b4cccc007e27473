// One `cadenza generate` session: open a trained model (a run directory's best checkpoint, or a
// checkpoint file), prime it, sample, and write, per sample, a MIDI file, a piano-roll SVG, an
// attention-map SVG (attention models) and optionally a WAV; generation.json records the
// settings, and with `stats` stats.json holds the music statistics next to the test split's.
// A token model (a melody dataset) generates events; its pieces are written as the melodies they
// spell (data/melody.hpp, melody_piano_roll), and --frames counts grid steps.
#pragma once

#include <cstdint>
#include <string>

#include "generate/audio.hpp"

namespace cadenza {

// The settings of a session, as `cadenza generate` takes them (docs/generate.md).
struct GenerateOptions {
  std::string command;  // the command line, recorded in generation.json
  std::string target;
  std::string primer;
  int64_t primer_frames = 0;
  int64_t frames = 64;
  int samples = 1;
  uint64_t seed = 1;
  double temperature = 1.0;
  int max_polyphony = 0;
  int min_notes = 0;
  int top_k = 0;       // token models only
  double top_p = 1.0;  // token models only
  int beam = 0;        // token models: > 0 decodes by beam search of this width instead of sampling
  std::string out;
  bool wav = false;
  std::string soundfont = std::string(kDefaultSoundfont);
  bool stats = false;
  double bpm = 120.0;
  int frames_per_quarter = 0;
  // One thread by default: a generation step of a quickstart-sized model is too small for a
  // second to pay (docs/generate.md), and the pieces then do not depend on the cores.
  int threads = 1;
};

// Runs the session: checks the settings (UsageError naming the flag, its value and what is
// valid), writes the files into `out` (default RUN_DIR/generated/seed-S, or
// CHECKPOINT.generated/seed-S), prints the summary on stderr and one JSON line
// {"out_dir", "outputs", "generation_s", "frames_per_s"} on stdout. Returns the exit code (0).
int run_generate(const GenerateOptions& options);

}  // namespace cadenza
