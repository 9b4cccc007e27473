// `cadenza generate RUN_DIR|CHECKPOINT [--primer SPEC] [--frames N] [--samples K] [--seed S]
// [--temperature T] [--max-polyphony M] [--min-notes N] [--top-k K] [--top-p P] [--beam W]
// [--out DIR] [--wav] [--stats] ...`:
// music from a trained model (generate/session.hpp).
#include <memory>

#include "cli/commands.hpp"
#include "generate/session.hpp"

namespace cadenza::cli {

void add_generate_command(CLI::App& app, Action& action) {
  auto options = std::make_shared<GenerateOptions>();
  CLI::App* command = app.add_subcommand(
      "generate",
      "Generate music from a run's best checkpoint (or a checkpoint file): MIDI, piano-roll and "
      "attention SVGs, optionally WAV and music statistics");
  command->add_option("target", options->target, "Run directory or checkpoint .h5 file")
      ->required();
  command->add_option("--primer", options->primer,
                      "Music to continue: a MIDI file or dataset:SPLIT:INDEX (e.g. "
                      "dataset:test:0); default one silent frame");
  command
      ->add_option("--primer-frames", options->primer_frames,
                   "Use only the primer's first N frames (0 = all)")
      ->capture_default_str();
  command->add_option("--frames", options->frames, "Frames to generate after the primer")
      ->capture_default_str();
  command->add_option("--samples", options->samples, "Pieces to generate (as one batch)")
      ->capture_default_str();
  command->add_option("--seed", options->seed, "Seed of the sampling streams")
      ->capture_default_str();
  command
      ->add_option("--temperature", options->temperature,
                   "Divides the logits before the draws (< 1 sharper, > 1 flatter)")
      ->capture_default_str();
  command
      ->add_option("--max-polyphony", options->max_polyphony,
                   "At most this many keys per generated frame, the most probable (0 = no "
                   "limit)")
      ->capture_default_str();
  command
      ->add_option("--min-notes", options->min_notes,
                   "At least this many keys per generated frame, adding the most probable")
      ->capture_default_str();
  command
      ->add_option("--top-k", options->top_k,
                   "Token models: draw from the K most probable events only (0 = all)")
      ->capture_default_str();
  command
      ->add_option("--top-p", options->top_p,
                   "Token models: draw from the most probable events up to this total "
                   "probability (nucleus sampling; 1 = all)")
      ->capture_default_str();
  command
      ->add_option("--beam", options->beam,
                   "Token models: decode the most probable continuations by beam search of this "
                   "width (0 = sample); --samples gives the best beams")
      ->capture_default_str();
  command->add_option("--out", options->out,
                      "Output folder (default RUN_DIR/generated/seed-S, or CHECKPOINT.generated/"
                      "seed-S)");
  command->add_flag("--wav", options->wav, "Also render each MIDI file to WAV with fluidsynth");
  command->add_option("--soundfont", options->soundfont, "Soundfont for --wav")
      ->capture_default_str();
  command->add_flag("--stats", options->stats,
                    "Write stats.json and print music statistics against the test split");
  command->add_option("--bpm", options->bpm, "Tempo of the MIDI files, quarter notes per minute")
      ->capture_default_str();
  command
      ->add_option("--frames-per-quarter", options->frames_per_quarter,
                   "Frames per quarter note in the MIDI files and MIDI primers (0 = the "
                   "dataset's, or 1 when it does not say)")
      ->capture_default_str();
  command
      ->add_option("--threads", options->threads, "OpenMP threads (0 = the run's threads.compute)")
      ->capture_default_str();
  command->callback([options, &action] {
    action = [options] {
      options->command = command_line();
      return run_generate(*options);
    };
  });
}

}  // namespace cadenza::cli
