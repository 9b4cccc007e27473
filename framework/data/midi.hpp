// Standard MIDI Files: reading (formats 0, 1, 2), writing (format 1), and conversion between
// notes and piano rolls. Malformed input raises cadenza::InputError naming the file, the byte
// offset and what was expected; it never crashes, hangs or allocates without bound.
//
// Reading rules (the python cross-check tests/python/mido_notes.py applies the same ones):
// - A note starts at a note-on with velocity > 0 and ends at the next note-off (or note-on with
//   velocity 0) of the same track, channel and pitch. Overlapping notes of one pitch are paired
//   first-in, first-out: a note-off ends the oldest sounding note of that pitch. A note-off with
//   nothing sounding is ignored.
// - A track ends at its end-of-track event (later bytes in the chunk are ignored) or, without
//   one, at its last event. Notes still sounding there end at that tick.
// - A note whose end equals its start (off at the same tick) has no duration and is dropped.
// - Running status is set only by channel messages; meta, sysex and system messages neither set
//   nor cancel it (test-running-status-{metaevent,sysex}.mid rely on this).
// - System common/real-time status bytes (F1-F6, F8-FE), which are not legal in a file, are
//   skipped with their MIDI wire data length (F2: 2 bytes, F1 and F3: 1, others none).
// - Format 0 and 1 tracks share one time line. Format 2 tracks are independent sequences, laid
//   end to end: track k starts where track k-1 ended.
// - Chunks other than MTrk are skipped; bytes after the header's last track are ignored.
// - Tempo and time-signature maps gather the events of every track, sorted by tick (stable).
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "data/piano_roll.hpp"

namespace cadenza {

struct MidiNote {
  int64_t start_tick = 0;
  int64_t end_tick = 0;  // > start_tick
  int pitch = 0;         // 0..127
  int velocity = 0;      // 1..127 (note-on velocity)
  int channel = 0;       // 0..15; channel 9 is General MIDI drums
  int track = 0;         // index of the MTrk chunk the note came from
};

struct TempoChange {
  int64_t tick = 0;
  int microseconds_per_quarter = 500000;
};

struct TimeSignature {
  int64_t tick = 0;
  int numerator = 4;
  int denominator = 4;
};

struct MidiFile {
  int format = 1;                      // 0, 1 or 2
  int ticks_per_quarter = 480;         // when the division is metrical (not SMPTE); 0 with SMPTE
  int smpte_frames_per_second = 0;     // non-zero when the division is SMPTE (24, 25, 29, 30)
  int ticks_per_smpte_frame = 0;       // with SMPTE division
  int tracks = 0;                      // number of MTrk chunks
  std::vector<MidiNote> notes;         // sorted by (start_tick, pitch, track)
  std::vector<TempoChange> tempo_map;  // empty: 500000 us per quarter (120 bpm) throughout
  std::vector<TimeSignature> time_signatures;
  std::vector<std::string> track_names;  // one per track ("" when unnamed)
};

// Parses a whole file held in memory; `name` is used in error messages.
MidiFile parse_midi(std::span<const uint8_t> bytes, std::string_view name);
// Reads and parses a file from disk.
MidiFile read_midi(const std::filesystem::path& path);

// Serialises `midi` as a format-1 SMF: a conductor track with tempo and time-signature maps,
// then one track per distinct MidiNote::track value (or a single track).
// Chunk k holds the notes with MidiNote::track == k; track 0 also carries the tempo map and the
// time signatures (and track_names[k] as a name event). The file has
// max(midi.tracks, 1 + largest track index) tracks, so all notes on track 0 give a single-track
// file and tracks 1..n after an empty conductor give the usual layout. At one tick, note-offs
// precede note-ons. Parsing the result gives back `midi` exactly (with format 1) whenever, per
// track, channel and pitch, note ends do not decrease in start order, which holds for every
// parsed file. Throws InputError naming the field when a value cannot be encoded.
std::vector<uint8_t> serialize_midi(const MidiFile& midi);
// Writes a format-1 file atomically (temp file + rename).
void write_midi(const std::filesystem::path& path, const MidiFile& midi);

// Largest roll midi_to_piano_roll builds: 2^20 frames (about 92 MB at 88 pitches; 36 hours at 120
// bpm and 4 frames per quarter), so that a hostile file cannot demand an unbounded allocation.
inline constexpr int64_t kMaxPianoRollFrames = int64_t{1} << 20;

struct PianoRollOptions {
  int frames_per_quarter = 4;
  int lowest_pitch = 21;
  int pitches = 88;
  bool exclude_drums = true;  // drop channel 9 (General MIDI percussion)
};

// Quantises notes to frames of a quarter note / frames_per_quarter. Notes outside the pitch range
// are dropped and counted in *dropped_out_of_range when it is not null.
// A note covers frames [round(start), round(end)) (ticks to frames, halves round up), and at
// least its start frame. With SMPTE division ticks become seconds and then quarter notes through
// the tempo map. The roll ends with the last kept note. Throws ConfigError for invalid options
// and InputError when the roll would exceed kMaxPianoRollFrames.
PianoRoll midi_to_piano_roll(const MidiFile& midi, const PianoRollOptions& options,
                             int64_t* dropped_out_of_range = nullptr);

// A note on the frame grid, quantised exactly as midi_to_piano_roll quantises it: frames
// [first_frame, end_frame), end_frame >= first_frame + 1.
struct FrameNote {
  int64_t first_frame = 0;
  int64_t end_frame = 0;
  int pitch = 0;
  int channel = 0;
  int track = 0;
};

// Every note of `midi` (drums included, in midi.notes order) on a grid of frames_per_quarter
// frames per quarter note. Throws ConfigError for an invalid resolution and InputError for a note
// ending beyond kMaxPianoRollFrames or a division that cannot be converted.
std::vector<FrameNote> quantise_notes(const MidiFile& midi, int frames_per_quarter);

// A note per maximal run of active frames in each column, on one track, channel 0.
// The notes go on track 1 after an empty conductor track 0 (tempo, 4/4), ticks_per_quarter is
// the smallest multiple of frames_per_quarter >= 480, so midi_to_piano_roll gives `roll` back
// up to its trailing silent frames. Throws ConfigError for invalid arguments.
MidiFile piano_roll_to_midi(const PianoRoll& roll, int frames_per_quarter,
                            int microseconds_per_quarter, int velocity = 80);

}  // namespace cadenza
