// Melodies as event sequences, the representation of Magenta's melody RNNs and folk-rnn: on a
// fixed grid (steps_per_quarter steps per quarter note) each step holds one event,
//   NO_EVENT   (id 0)       the note holds, or the rest goes on;
//   NOTE_OFF   (id 1)       the sounding note ends at this step;
//   NOTE_ON(p) (id 2 + p - lowest_pitch) a note of MIDI pitch p starts (and ends the one before),
// so a vocabulary of `pitches` NOTE_ON events has pitches + 2 classes (38 by default, pitches
// 48..83 as Magenta's basic_rnn).
//
// Extraction from a MIDI file (extract_melody), in this order:
//   1. every note is quantised to the grid as piano rolls are (data/midi.hpp, quantise_notes);
//   2. the notes of one voice are kept: the track `track` and/or channel `channel` when given,
//      else the busiest non-drum track (most notes, the lowest index on a tie); drums (channel 10)
//      are excluded unless channel 9 is asked for;
//   3. polyphony is resolved by keeping the highest note: notes are taken by onset (the highest
//      first at one onset); a note starting while a higher one sounds is dropped, otherwise it
//      starts and cuts the note before it;
//   4. pitches outside the range are moved by whole octaves to the nearest pitch in range
//      (OutOfRange::transpose), or the file is skipped (OutOfRange::skip);
//   5. the melody is split wherever a rest is longer than max_rest_steps; each fragment starts at
//      its first onset and ends with the NOTE_OFF of its last note;
//   6. fragments of fewer than min_events steps are dropped.
// A file that yields no fragment gets a skip reason.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "data/midi.hpp"
#include "data/piano_roll.hpp"

namespace cadenza {

inline constexpr int16_t kNoEvent = 0;
inline constexpr int16_t kNoteOff = 1;
inline constexpr int16_t kFirstNoteOn = 2;

struct MelodyVocabulary {
  int lowest_pitch = 48;
  int pitches = 36;

  int size() const { return pitches + 2; }
  bool is_note_on(int16_t event) const { return event >= kFirstNoteOn && event < size(); }
  int16_t note_on(int pitch) const {
    return static_cast<int16_t>(kFirstNoteOn + pitch - lowest_pitch);
  }
  int pitch_of(int16_t event) const { return lowest_pitch + event - kFirstNoteOn; }
  // "NO_EVENT", "NOTE_OFF" or "NOTE_ON(p)".
  std::string name(int16_t event) const;
  // Every class name in id order, joined by ",": the dataset's vocabulary attribute.
  std::string text() const;
};

// Throws ConfigError unless 1 <= pitches and lowest_pitch .. lowest_pitch + pitches - 1 lies in
// MIDI pitches 0..127.
void validate_vocabulary(const MelodyVocabulary& vocabulary);

enum class OutOfRange { transpose, skip };

struct MelodyOptions {
  int steps_per_quarter = 4;
  MelodyVocabulary vocabulary;
  int track = -1;    // -1: the busiest non-drum track
  int channel = -1;  // -1: every channel but drums
  OutOfRange out_of_range = OutOfRange::transpose;
  int max_rest_steps = 16;  // a longer rest splits the melody
  int min_events = 32;      // shorter fragments are dropped
};

// Throws ConfigError naming the option and its valid values.
void validate_melody_options(const MelodyOptions& options);

// A note of a melody on the grid: steps [onset, onset + duration).
struct MelodyNote {
  int64_t onset = 0;
  int64_t duration = 0;
  int pitch = 0;

  bool operator==(const MelodyNote&) const = default;
};

struct MelodyExtraction {
  std::vector<std::vector<int16_t>> fragments;  // event sequences, each >= min_events steps
  std::string skip_reason;                      // set when there is no fragment
  int track = -1;                               // the track the notes came from (-1: several)
  int64_t notes_dropped_polyphony = 0;          // removed by the highest-note rule
  int64_t notes_transposed = 0;                 // moved by octaves into the range
  int64_t fragments_too_short = 0;              // dropped by min_events
};

MelodyExtraction extract_melody(const MidiFile& midi, const MelodyOptions& options);

// notes (by onset, not overlapping, onset of the first = 0, every pitch in range) ->
// events [end of the last note + 1]: NOTE_ON at each onset, NOTE_OFF at each end that is not
// the next note's onset, NO_EVENT elsewhere.
std::vector<int16_t> melody_events(std::span<const MelodyNote> notes,
                                   const MelodyVocabulary& vocabulary);

// events -> notes: a note starts at each NOTE_ON and ends at the next NOTE_ON or NOTE_OFF (a
// NOTE_OFF with nothing sounding is ignored), or at the end of the sequence. Throws InputError
// for an event outside the vocabulary.
std::vector<MelodyNote> melody_notes(std::span<const int16_t> events,
                                     const MelodyVocabulary& vocabulary);

// events -> the frames a token model reads: [events, vocabulary.size()], a single 1 per row at the
// event's id (roll.lowest_pitch is vocabulary.lowest_pitch). InputError for an event outside the
// vocabulary.
PianoRoll one_hot_roll(std::span<const int16_t> events, const MelodyVocabulary& vocabulary);

// The inverse of one_hot_roll: a roll of vocabulary.size() columns -> its events. InputError
// naming the row when a row is not one-hot.
std::vector<int16_t> one_hot_events(const PianoRoll& roll, const MelodyVocabulary& vocabulary);

// events -> the melody as a piano roll [events, vocabulary.pitches] from vocabulary.lowest_pitch,
// each note of melody_notes sounding over its steps: what MIDI, SVG, audio and music statistics
// take.
PianoRoll melody_piano_roll(std::span<const int16_t> events, const MelodyVocabulary& vocabulary);

// events -> a MIDI file of the notes of melody_notes, as piano_roll_to_midi lays out a piano roll
// (conductor track, notes on track 1, the same ticks per step), except that a note repeated with
// no rest between stays two notes, which a piano roll would merge.
MidiFile melody_to_midi(std::span<const int16_t> events, const MelodyVocabulary& vocabulary,
                        int steps_per_quarter, int microseconds_per_quarter, int velocity = 80);

}  // namespace cadenza
