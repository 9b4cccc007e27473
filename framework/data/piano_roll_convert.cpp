// Conversion between MIDI notes and binary piano rolls.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <tuple>
#include <utility>

#include "core/error.hpp"
#include "data/midi.hpp"

namespace cadenza {
namespace {

constexpr int kMaxFramesPerQuarter = 0x7FFF;

void validate_pitch_range(int lowest_pitch, int pitches, std::string_view lowest_name,
                          std::string_view pitches_name) {
  if (lowest_pitch < 0 || lowest_pitch > 127) {
    throw ConfigError(
        fmt::format("{} = {} (expected a MIDI pitch 0..127)", lowest_name, lowest_pitch));
  }
  if (pitches < 1 || lowest_pitch + pitches > 128) {
    throw ConfigError(
        fmt::format("{} = {} with {} = {} (expected 1..{} so that the range ends at "
                    "MIDI pitch 127 at most)",
                    pitches_name, pitches, lowest_name, lowest_pitch, 128 - lowest_pitch));
  }
}

void validate_frames_per_quarter(int frames_per_quarter) {
  if (frames_per_quarter < 1 || frames_per_quarter > kMaxFramesPerQuarter) {
    throw ConfigError(fmt::format("frames_per_quarter = {} (expected 1..{})", frames_per_quarter,
                                  kMaxFramesPerQuarter));
  }
}

// Maps a tick to the nearest frame boundary (halves round up). Metrical divisions count quarter
// notes directly; SMPTE divisions count seconds, turned into quarter notes through the tempo map.
class TickToFrame {
 public:
  TickToFrame(const MidiFile& midi, int frames_per_quarter)
      : frames_per_quarter_(frames_per_quarter), ticks_per_quarter_(midi.ticks_per_quarter) {
    if (midi.smpte_frames_per_second == 0) {
      if (ticks_per_quarter_ < 1) {
        throw InputError(fmt::format("MIDI data has ticks_per_quarter {} and no SMPTE division",
                                     ticks_per_quarter_));
      }
      return;
    }
    if (midi.ticks_per_smpte_frame < 1) {
      throw InputError(fmt::format("MIDI data has SMPTE division with {} ticks per frame",
                                   midi.ticks_per_smpte_frame));
    }
    // 29 stands for 29.97 drop-frame timecode.
    const long double frames_per_second =
        midi.smpte_frames_per_second == 29 ? 30000.0L / 1001.0L : midi.smpte_frames_per_second;
    seconds_per_tick_ = 1.0L / (frames_per_second * midi.ticks_per_smpte_frame);
    long double quarters = 0;
    int64_t tick = 0;
    int microseconds = 500000;
    for (const TempoChange& change : midi.tempo_map) {
      if (change.microseconds_per_quarter < 1) {
        throw InputError(
            fmt::format("MIDI data has a tempo of {} microseconds per quarter note at "
                        "tick {}",
                        change.microseconds_per_quarter, change.tick));
      }
      quarters += quarters_between(tick, std::max(tick, change.tick), microseconds);
      tick = std::max(tick, change.tick);
      microseconds = change.microseconds_per_quarter;
      segments_.push_back({tick, quarters, microseconds});
    }
    if (segments_.empty() || segments_.front().tick > 0) {
      segments_.insert(segments_.begin(), {0, 0.0L, 500000});
    }
  }

  // Returns a value > kMaxPianoRollFrames for ticks beyond the largest roll.
  int64_t operator()(int64_t tick) const {
    if (segments_.empty()) {
      const int64_t quarters = tick / ticks_per_quarter_;
      const int64_t remainder = tick % ticks_per_quarter_;
      if (quarters > kMaxPianoRollFrames) return kMaxPianoRollFrames + 1;
      return quarters * frames_per_quarter_ +
             (2 * remainder * frames_per_quarter_ + ticks_per_quarter_) / (2 * ticks_per_quarter_);
    }
    const auto after = std::upper_bound(
        segments_.begin(), segments_.end(), tick,
        [](int64_t value, const Segment& segment) { return value < segment.tick; });
    const Segment& segment = *(after - 1);
    const long double quarters =
        segment.quarters + quarters_between(segment.tick, tick, segment.microseconds);
    const long double frame = std::floor(quarters * frames_per_quarter_ + 0.5L);
    if (frame > static_cast<long double>(kMaxPianoRollFrames)) return kMaxPianoRollFrames + 1;
    return static_cast<int64_t>(frame);
  }

 private:
  struct Segment {
    int64_t tick;
    long double quarters;  // quarter notes elapsed at `tick`
    int microseconds;      // tempo from `tick` on
  };

  long double quarters_between(int64_t from, int64_t to, int microseconds) const {
    return static_cast<long double>(to - from) * seconds_per_tick_ * 1e6L / microseconds;
  }

  int frames_per_quarter_;
  int ticks_per_quarter_;
  long double seconds_per_tick_ = 0;
  std::vector<Segment> segments_;  // SMPTE only: one per tempo change, from tick 0
};

}  // namespace

namespace {

// Throws InputError for a note whose ticks do not span a positive interval from 0 on.
void check_note_ticks(const MidiNote& note) {
  if (note.start_tick < 0 || note.end_tick <= note.start_tick) {
    throw InputError(
        fmt::format("note of pitch {} spans ticks [{}, {}) (expected 0 <= start < end)", note.pitch,
                    note.start_tick, note.end_tick));
  }
}

// The frames [first, end) of `note` on the grid of `to_frame`, at least one frame long. Throws
// InputError when it ends beyond kMaxPianoRollFrames.
std::pair<int64_t, int64_t> note_frames(const MidiNote& note, const TickToFrame& to_frame,
                                        int frames_per_quarter) {
  const int64_t first_frame = to_frame(note.start_tick);
  const int64_t end_frame = std::max(to_frame(note.end_tick), first_frame + 1);
  if (end_frame > kMaxPianoRollFrames) {
    throw InputError(fmt::format(
        "note at ticks [{}, {}) ends at frame {} with {} frames per quarter; at most {} frames "
        "are allowed",
        note.start_tick, note.end_tick, end_frame, frames_per_quarter, kMaxPianoRollFrames));
  }
  return {first_frame, end_frame};
}

}  // namespace

std::vector<FrameNote> quantise_notes(const MidiFile& midi, int frames_per_quarter) {
  validate_frames_per_quarter(frames_per_quarter);
  const TickToFrame to_frame(midi, frames_per_quarter);
  std::vector<FrameNote> notes;
  notes.reserve(midi.notes.size());
  for (const MidiNote& note : midi.notes) {
    check_note_ticks(note);
    const auto [first_frame, end_frame] = note_frames(note, to_frame, frames_per_quarter);
    notes.push_back({first_frame, end_frame, note.pitch, note.channel, note.track});
  }
  return notes;
}

PianoRoll midi_to_piano_roll(const MidiFile& midi, const PianoRollOptions& options,
                             int64_t* dropped_out_of_range) {
  validate_frames_per_quarter(options.frames_per_quarter);
  validate_pitch_range(options.lowest_pitch, options.pitches, "lowest_pitch", "pitches");
  const TickToFrame to_frame(midi, options.frames_per_quarter);

  struct Span {
    int64_t first_frame;
    int64_t end_frame;
    int column;
  };
  std::vector<Span> spans;
  int64_t dropped = 0;
  int64_t frames = 0;
  for (const MidiNote& note : midi.notes) {
    if (options.exclude_drums && note.channel == 9) continue;
    check_note_ticks(note);
    const int column = note.pitch - options.lowest_pitch;
    if (column < 0 || column >= options.pitches) {
      ++dropped;
      continue;
    }
    const auto [first_frame, end_frame] = note_frames(note, to_frame, options.frames_per_quarter);
    spans.push_back({first_frame, end_frame, column});
    frames = std::max(frames, end_frame);
  }
  if (dropped_out_of_range != nullptr) *dropped_out_of_range = dropped;

  PianoRoll roll;
  roll.frames = frames;
  roll.pitches = options.pitches;
  roll.lowest_pitch = options.lowest_pitch;
  roll.cells.assign(static_cast<size_t>(frames * options.pitches), 0);
  for (const Span& span : spans) {
    for (int64_t frame = span.first_frame; frame < span.end_frame; ++frame) {
      roll.at(frame, span.column) = 1;
    }
  }
  return roll;
}

MidiFile piano_roll_to_midi(const PianoRoll& roll, int frames_per_quarter,
                            int microseconds_per_quarter, int velocity) {
  validate_frames_per_quarter(frames_per_quarter);
  validate_pitch_range(roll.lowest_pitch, roll.pitches, "roll.lowest_pitch", "roll.pitches");
  if (microseconds_per_quarter < 1 || microseconds_per_quarter > 0xFFFFFF) {
    throw ConfigError(fmt::format("microseconds_per_quarter = {} (expected 1..16777215)",
                                  microseconds_per_quarter));
  }
  if (velocity < 1 || velocity > 127) {
    throw ConfigError(fmt::format("velocity = {} (expected 1..127)", velocity));
  }
  if (roll.frames < 0 || roll.cells.size() != static_cast<size_t>(roll.frames * roll.pitches)) {
    throw InputError(fmt::format("piano roll of {} frames x {} pitches holds {} cells", roll.frames,
                                 roll.pitches, roll.cells.size()));
  }

  MidiFile midi;
  midi.format = 1;
  const int ticks_per_frame = (480 + frames_per_quarter - 1) / frames_per_quarter;
  midi.ticks_per_quarter = ticks_per_frame * frames_per_quarter;
  midi.tracks = 2;
  midi.track_names = {"", ""};
  midi.tempo_map = {{0, microseconds_per_quarter}};
  midi.time_signatures = {{0, 4, 4}};
  for (int column = 0; column < roll.pitches; ++column) {
    int64_t frame = 0;
    while (frame < roll.frames) {
      if (roll.at(frame, column) == 0) {
        ++frame;
        continue;
      }
      const int64_t first = frame;
      while (frame < roll.frames && roll.at(frame, column) != 0)
        ++frame;
      midi.notes.push_back({first * ticks_per_frame, frame * ticks_per_frame,
                            roll.lowest_pitch + column, velocity, 0, 1});
    }
  }
  std::sort(midi.notes.begin(), midi.notes.end(), [](const MidiNote& a, const MidiNote& b) {
    return std::tie(a.start_tick, a.pitch) < std::tie(b.start_tick, b.pitch);
  });
  return midi;
}

}  // namespace cadenza
