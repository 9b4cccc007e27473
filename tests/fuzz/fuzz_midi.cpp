// libFuzzer target for the MIDI reader (built by scripts/fuzz_midi.sh, not by CMake).
// Any input must either parse or raise cadenza::InputError. A parsed file must survive the
// writer and read back to the same MidiFile, and must convert to a piano roll or be refused with
// InputError (roll too long). Anything else (crash, sanitizer report, other exception, mismatch)
// is a finding.
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/error.hpp"
#include "data/midi.hpp"

namespace {

bool same_notes(const cadenza::MidiNote& a, const cadenza::MidiNote& b) {
  return a.start_tick == b.start_tick && a.end_tick == b.end_tick && a.pitch == b.pitch &&
         a.velocity == b.velocity && a.channel == b.channel && a.track == b.track;
}

bool same_file(const cadenza::MidiFile& a, const cadenza::MidiFile& b) {
  if (a.ticks_per_quarter != b.ticks_per_quarter ||
      a.smpte_frames_per_second != b.smpte_frames_per_second ||
      a.ticks_per_smpte_frame != b.ticks_per_smpte_frame || a.tracks != b.tracks ||
      a.track_names != b.track_names || a.notes.size() != b.notes.size() ||
      a.tempo_map.size() != b.tempo_map.size() ||
      a.time_signatures.size() != b.time_signatures.size()) {
    return false;
  }
  for (size_t i = 0; i < a.notes.size(); ++i) {
    if (!same_notes(a.notes[i], b.notes[i])) return false;
  }
  for (size_t i = 0; i < a.tempo_map.size(); ++i) {
    if (a.tempo_map[i].tick != b.tempo_map[i].tick ||
        a.tempo_map[i].microseconds_per_quarter != b.tempo_map[i].microseconds_per_quarter) {
      return false;
    }
  }
  for (size_t i = 0; i < a.time_signatures.size(); ++i) {
    if (a.time_signatures[i].tick != b.time_signatures[i].tick ||
        a.time_signatures[i].numerator != b.time_signatures[i].numerator ||
        a.time_signatures[i].denominator != b.time_signatures[i].denominator) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cadenza::MidiFile midi;
  try {
    midi = cadenza::parse_midi(std::span(data, size), "fuzz-input");
  } catch (const cadenza::InputError&) {
    return 0;
  }
  const cadenza::MidiFile again =
      cadenza::parse_midi(cadenza::serialize_midi(midi), "fuzz-input-rewritten");
  if (!same_file(midi, again)) __builtin_trap();
  try {
    const cadenza::PianoRoll roll = cadenza::midi_to_piano_roll(midi, {});
    if (roll.cells.size() != static_cast<size_t>(roll.frames * roll.pitches)) __builtin_trap();
  } catch (const cadenza::InputError&) {
  }
  return 0;
}
