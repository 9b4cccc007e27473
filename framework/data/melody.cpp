#include "data/melody.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "core/error.hpp"

namespace cadenza {
namespace {

constexpr int kDrumChannel = 9;  // General MIDI channel 10
constexpr int kMaxStepsPerQuarter = 960;

std::string range_text(const MelodyVocabulary& vocabulary) {
  return fmt::format("{}..{}", vocabulary.lowest_pitch,
                     vocabulary.lowest_pitch + vocabulary.pitches - 1);
}

// The notes of the chosen voice, or a skip reason in *reason.
std::vector<FrameNote> choose_voice(const std::vector<FrameNote>& notes, const MidiFile& midi,
                                    const MelodyOptions& options, int& track, std::string& reason) {
  std::vector<FrameNote> kept;
  for (const FrameNote& note : notes) {
    const bool drum = note.channel == kDrumChannel && options.channel != kDrumChannel;
    const bool other_channel = options.channel >= 0 && note.channel != options.channel;
    const bool other_track = options.track >= 0 && note.track != options.track;
    if (!drum && !other_channel && !other_track) kept.push_back(note);
  }
  if (kept.empty()) {
    if (options.track >= 0 || options.channel >= 0) {
      reason = fmt::format(
          "no notes on {}{}{} (the file has {} tracks)",
          options.track >= 0 ? fmt::format("track {}", options.track) : "",
          options.track >= 0 && options.channel >= 0 ? ", " : "",
          options.channel >= 0 ? fmt::format("channel {}", options.channel + 1) : "", midi.tracks);
    } else {
      reason = fmt::format("only drum notes (channel 10, excluded): {}", notes.size());
    }
    return kept;
  }
  if (options.track >= 0) {
    track = options.track;
    return kept;
  }
  std::map<int, int64_t> per_track;
  for (const FrameNote& note : kept)
    ++per_track[note.track];
  track = std::max_element(per_track.begin(), per_track.end(), [](const auto& a, const auto& b) {
            return a.second < b.second;
          })->first;
  std::erase_if(kept, [&](const FrameNote& note) { return note.track != track; });
  return kept;
}

// Notes by onset with the highest-note rule applied (MelodyNote with absolute onsets).
std::vector<MelodyNote> highest_voice(std::vector<FrameNote> notes, int64_t& dropped) {
  std::stable_sort(notes.begin(), notes.end(), [](const FrameNote& a, const FrameNote& b) {
    return a.first_frame != b.first_frame ? a.first_frame < b.first_frame : a.pitch > b.pitch;
  });
  std::vector<MelodyNote> voice;
  int64_t end = 0;
  for (const FrameNote& note : notes) {
    if (!voice.empty()) {
      MelodyNote& last = voice.back();
      const bool same_onset = note.first_frame == last.onset;
      const bool under_higher = note.first_frame < end && note.pitch < last.pitch;
      if (same_onset || under_higher) {
        ++dropped;
        continue;
      }
      end = std::min(end, note.first_frame);
      last.duration = end - last.onset;
    }
    voice.push_back({note.first_frame, 0, note.pitch});
    end = note.end_frame;
  }
  if (!voice.empty()) voice.back().duration = end - voice.back().onset;
  return voice;
}

}  // namespace

std::string MelodyVocabulary::name(int16_t event) const {
  if (event == kNoEvent) return "NO_EVENT";
  if (event == kNoteOff) return "NOTE_OFF";
  return fmt::format("NOTE_ON({})", pitch_of(event));
}

std::string MelodyVocabulary::text() const {
  std::string text;
  for (int event = 0; event < size(); ++event) {
    if (event > 0) text += ',';
    text += name(static_cast<int16_t>(event));
  }
  return text;
}

void validate_vocabulary(const MelodyVocabulary& vocabulary) {
  if (vocabulary.lowest_pitch < 0 || vocabulary.lowest_pitch > 127 || vocabulary.pitches < 1 ||
      vocabulary.lowest_pitch + vocabulary.pitches > 128) {
    throw ConfigError(fmt::format(
        "melody pitch range: lowest pitch {} with {} pitches (expected a lowest pitch 0..127 and "
        "1..{} pitches, so that the range ends at MIDI pitch 127 at most)",
        vocabulary.lowest_pitch, vocabulary.pitches,
        std::max(1, 128 - std::clamp(vocabulary.lowest_pitch, 0, 127))));
  }
}

void validate_melody_options(const MelodyOptions& options) {
  validate_vocabulary(options.vocabulary);
  if (options.steps_per_quarter < 1 || options.steps_per_quarter > kMaxStepsPerQuarter) {
    throw ConfigError(fmt::format("steps per quarter note {}: expected 1..{}",
                                  options.steps_per_quarter, kMaxStepsPerQuarter));
  }
  if (options.track < -1) {
    throw ConfigError(fmt::format("melody track {}: expected a track index >= 0", options.track));
  }
  if (options.channel < -1 || options.channel > 15) {
    throw ConfigError(
        fmt::format("melody channel {}: expected a MIDI channel 1..16", options.channel + 1));
  }
  if (options.max_rest_steps < 0) {
    throw ConfigError(
        fmt::format("max rest steps {}: expected a number of steps >= 0", options.max_rest_steps));
  }
  if (options.min_events < 2) {
    throw ConfigError(fmt::format(
        "min events {}: expected >= 2 (a fragment needs a step to predict)", options.min_events));
  }
}

MelodyExtraction extract_melody(const MidiFile& midi, const MelodyOptions& options) {
  validate_melody_options(options);
  const MelodyVocabulary& vocabulary = options.vocabulary;
  MelodyExtraction result;
  if (midi.notes.empty()) {
    result.skip_reason = "no notes";
    return result;
  }
  std::vector<FrameNote> quantised;
  try {
    quantised = quantise_notes(midi, options.steps_per_quarter);
  } catch (const InputError& e) {
    result.skip_reason = fmt::format("cannot be quantised: {}", e.what());
    return result;
  }
  const auto voice_notes = choose_voice(quantised, midi, options, result.track, result.skip_reason);
  if (voice_notes.empty()) return result;
  std::vector<MelodyNote> voice = highest_voice(voice_notes, result.notes_dropped_polyphony);

  const int lowest = vocabulary.lowest_pitch;
  const int highest = lowest + vocabulary.pitches - 1;
  for (MelodyNote& note : voice) {
    if (note.pitch >= lowest && note.pitch <= highest) continue;
    if (options.out_of_range == OutOfRange::skip) {
      result.skip_reason =
          fmt::format("out of range: pitch {} at step {} is outside {} (--out-of-range skip)",
                      note.pitch, note.onset, range_text(vocabulary));
      return result;
    }
    int pitch = note.pitch;
    if (pitch < lowest) pitch += 12 * ((lowest - pitch + 11) / 12);
    if (pitch > highest) pitch -= 12 * ((pitch - highest + 11) / 12);
    if (pitch < lowest) {
      result.skip_reason = fmt::format(
          "out of range: pitch {} cannot be moved by octaves into {} (fewer than 12 "
          "pitches)",
          note.pitch, range_text(vocabulary));
      return result;
    }
    note.pitch = pitch;
    ++result.notes_transposed;
  }

  int64_t longest = 0;
  size_t first = 0;
  for (size_t i = 1; i <= voice.size(); ++i) {
    const bool split =
        i == voice.size() ||
        voice[i].onset - (voice[i - 1].onset + voice[i - 1].duration) > options.max_rest_steps;
    if (!split) continue;
    std::vector<MelodyNote> fragment(voice.begin() + static_cast<std::ptrdiff_t>(first),
                                     voice.begin() + static_cast<std::ptrdiff_t>(i));
    const int64_t origin = fragment.front().onset;
    for (MelodyNote& note : fragment)
      note.onset -= origin;
    auto events = melody_events(fragment, vocabulary);
    longest = std::max<int64_t>(longest, static_cast<int64_t>(events.size()));
    if (static_cast<int64_t>(events.size()) < options.min_events) {
      ++result.fragments_too_short;
    } else {
      result.fragments.push_back(std::move(events));
    }
    first = i;
  }
  if (result.fragments.empty()) {
    result.skip_reason =
        fmt::format("too short: {} fragment(s), the longest {} events, fewer than --min-events {}",
                    result.fragments_too_short, longest, options.min_events);
  }
  return result;
}

std::vector<int16_t> melody_events(std::span<const MelodyNote> notes,
                                   const MelodyVocabulary& vocabulary) {
  if (notes.empty()) return {};
  const MelodyNote& last = notes.back();
  std::vector<int16_t> events(static_cast<size_t>(last.onset + last.duration + 1), kNoEvent);
  for (const MelodyNote& note : notes) {
    auto& end = events[static_cast<size_t>(note.onset + note.duration)];
    if (end == kNoEvent) end = kNoteOff;
    events[static_cast<size_t>(note.onset)] = vocabulary.note_on(note.pitch);
  }
  return events;
}

std::vector<MelodyNote> melody_notes(std::span<const int16_t> events,
                                     const MelodyVocabulary& vocabulary) {
  std::vector<MelodyNote> notes;
  bool sounding = false;
  const auto end_note = [&](int64_t step) {
    if (sounding) notes.back().duration = step - notes.back().onset;
    sounding = false;
  };
  for (size_t step = 0; step < events.size(); ++step) {
    const int16_t event = events[step];
    if (event < 0 || event >= vocabulary.size()) {
      throw InputError(fmt::format("melody event {} at step {} is outside the vocabulary 0..{}",
                                   event, step, vocabulary.size() - 1));
    }
    if (event == kNoEvent) continue;
    end_note(static_cast<int64_t>(step));
    if (vocabulary.is_note_on(event)) {
      notes.push_back({static_cast<int64_t>(step), 0, vocabulary.pitch_of(event)});
      sounding = true;
    }
  }
  end_note(static_cast<int64_t>(events.size()));
  return notes;
}

PianoRoll one_hot_roll(std::span<const int16_t> events, const MelodyVocabulary& vocabulary) {
  PianoRoll roll;
  roll.frames = static_cast<int64_t>(events.size());
  roll.pitches = vocabulary.size();
  roll.lowest_pitch = vocabulary.lowest_pitch;
  roll.cells.assign(events.size() * static_cast<size_t>(roll.pitches), 0);
  for (size_t step = 0; step < events.size(); ++step) {
    if (events[step] < 0 || events[step] >= vocabulary.size()) {
      throw InputError(fmt::format("melody event {} at step {} is outside the vocabulary 0..{}",
                                   events[step], step, vocabulary.size() - 1));
    }
    roll.cells[step * static_cast<size_t>(roll.pitches) + static_cast<size_t>(events[step])] = 1;
  }
  return roll;
}

std::vector<int16_t> one_hot_events(const PianoRoll& roll, const MelodyVocabulary& vocabulary) {
  if (roll.pitches != vocabulary.size()) {
    throw InputError(fmt::format("a one-hot melody roll has {} columns, the vocabulary {} classes",
                                 roll.pitches, vocabulary.size()));
  }
  std::vector<int16_t> events(static_cast<size_t>(roll.frames));
  for (int64_t step = 0; step < roll.frames; ++step) {
    int found = -1;
    for (int c = 0; c < roll.pitches; ++c) {
      if (roll.at(step, c) == 0) continue;
      found = found < 0 ? c : roll.pitches;  // a second 1 marks the row as not one-hot
    }
    if (found < 0 || found >= roll.pitches) {
      throw InputError(fmt::format("row {} of a one-hot melody roll holds {} events, not one", step,
                                   found < 0 ? "no" : "several"));
    }
    events[static_cast<size_t>(step)] = static_cast<int16_t>(found);
  }
  return events;
}

PianoRoll melody_piano_roll(std::span<const int16_t> events, const MelodyVocabulary& vocabulary) {
  PianoRoll roll;
  roll.frames = static_cast<int64_t>(events.size());
  roll.pitches = vocabulary.pitches;
  roll.lowest_pitch = vocabulary.lowest_pitch;
  roll.cells.assign(events.size() * static_cast<size_t>(roll.pitches), 0);
  for (const MelodyNote& note : melody_notes(events, vocabulary)) {
    for (int64_t step = note.onset; step < note.onset + note.duration; ++step)
      roll.at(step, note.pitch - vocabulary.lowest_pitch) = 1;
  }
  return roll;
}

MidiFile melody_to_midi(std::span<const int16_t> events, const MelodyVocabulary& vocabulary,
                        int steps_per_quarter, int microseconds_per_quarter, int velocity) {
  PianoRoll silence;
  silence.frames = static_cast<int64_t>(events.size());
  silence.pitches = vocabulary.pitches;
  silence.lowest_pitch = vocabulary.lowest_pitch;
  silence.cells.assign(events.size() * static_cast<size_t>(vocabulary.pitches), 0);
  MidiFile midi =
      piano_roll_to_midi(silence, steps_per_quarter, microseconds_per_quarter, velocity);
  const int64_t ticks_per_step = midi.ticks_per_quarter / steps_per_quarter;
  for (const MelodyNote& note : melody_notes(events, vocabulary)) {
    midi.notes.push_back({note.onset * ticks_per_step,
                          (note.onset + note.duration) * ticks_per_step, note.pitch, velocity, 0,
                          1});
  }
  return midi;
}

}  // namespace cadenza
