// Standard MIDI File writer (format 1). Events of a track are ordered so that the reader's
// first-in, first-out note pairing (see midi.hpp) gives back the same notes.
#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <string_view>
#include <tuple>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "data/midi.hpp"

namespace cadenza {
namespace {

constexpr uint32_t kMaxVlq = 0x0FFFFFFF;
constexpr int kMaxTracks = 0xFFFF;

[[noreturn]] void reject(std::string_view what) {
  throw InputError(fmt::format("cannot encode MIDI file: {}", what));
}

void validate(const MidiFile& midi) {
  if (midi.smpte_frames_per_second != 0) {
    const int fps = midi.smpte_frames_per_second;
    if (fps != 24 && fps != 25 && fps != 29 && fps != 30) {
      reject(fmt::format("smpte_frames_per_second {} (expected 24, 25, 29 or 30)", fps));
    }
    if (midi.ticks_per_smpte_frame < 1 || midi.ticks_per_smpte_frame > 255) {
      reject(fmt::format("ticks_per_smpte_frame {} (expected 1..255)", midi.ticks_per_smpte_frame));
    }
  } else if (midi.ticks_per_quarter < 1 || midi.ticks_per_quarter > 0x7FFF) {
    reject(fmt::format("ticks_per_quarter {} (expected 1..32767)", midi.ticks_per_quarter));
  }
  for (size_t i = 0; i < midi.notes.size(); ++i) {
    const MidiNote& note = midi.notes[i];
    if (note.start_tick < 0 || note.end_tick <= note.start_tick) {
      reject(fmt::format("note {} spans ticks [{}, {}) (expected 0 <= start < end)", i,
                         note.start_tick, note.end_tick));
    }
    if (note.pitch < 0 || note.pitch > 127) {
      reject(fmt::format("note {} has pitch {} (expected 0..127)", i, note.pitch));
    }
    if (note.velocity < 1 || note.velocity > 127) {
      reject(fmt::format("note {} has velocity {} (expected 1..127)", i, note.velocity));
    }
    if (note.channel < 0 || note.channel > 15) {
      reject(fmt::format("note {} has channel {} (expected 0..15)", i, note.channel));
    }
    if (note.track < 0 || note.track >= kMaxTracks) {
      reject(fmt::format("note {} has track {} (expected 0..{})", i, note.track, kMaxTracks - 1));
    }
  }
  for (const TempoChange& tempo : midi.tempo_map) {
    if (tempo.tick < 0 || tempo.microseconds_per_quarter < 1 ||
        tempo.microseconds_per_quarter > 0xFFFFFF) {
      reject(
          fmt::format("tempo change at tick {} of {} microseconds per quarter (expected tick "
                      ">= 0 and 1..16777215 microseconds)",
                      tempo.tick, tempo.microseconds_per_quarter));
    }
  }
  for (const TimeSignature& signature : midi.time_signatures) {
    const bool power_of_two = signature.denominator > 0 &&
                              std::has_single_bit(static_cast<unsigned>(signature.denominator));
    if (signature.tick < 0 || signature.numerator < 0 || signature.numerator > 255 ||
        !power_of_two) {
      reject(
          fmt::format("time signature {}/{} at tick {} (expected tick >= 0, numerator 0..255, "
                      "denominator a power of two)",
                      signature.numerator, signature.denominator, signature.tick));
    }
  }
  for (size_t i = 0; i < midi.track_names.size(); ++i) {
    if (midi.track_names[i].size() > kMaxVlq) {
      reject(fmt::format("track name {} is {} bytes long (at most {})", i,
                         midi.track_names[i].size(), kMaxVlq));
    }
  }
}

void append_u16(std::vector<uint8_t>& out, uint32_t value) {
  out.push_back(static_cast<uint8_t>(value >> 8));
  out.push_back(static_cast<uint8_t>(value));
}

void append_u32(std::vector<uint8_t>& out, uint32_t value) {
  append_u16(out, value >> 16);
  append_u16(out, value & 0xFFFFu);
}

// value <= 0x0FFFFFFF, most significant 7-bit group first.
void append_vlq(std::vector<uint8_t>& out, uint32_t value) {
  int groups = 1;
  while (groups < 4 && (value >> (7 * groups)) != 0)
    ++groups;
  for (int group = groups - 1; group >= 0; --group) {
    const auto bits = static_cast<uint8_t>((value >> (7 * group)) & 0x7Fu);
    out.push_back(group > 0 ? static_cast<uint8_t>(bits | 0x80u) : bits);
  }
}

// One event of a track. Events sort by (tick, kind, secondary, sequence): meta events first, then
// note-offs (earliest-started note first), then note-ons (earliest-ending note first), which is
// the order in which first-in, first-out pairing reproduces the notes.
enum class EventKind { kMeta = 0, kNoteOff = 1, kNoteOn = 2 };

struct TrackEvent {
  int64_t tick;
  EventKind kind;
  int64_t secondary;
  size_t sequence;
  std::vector<uint8_t> message;  // status byte and data, or FF type length data
};

std::vector<uint8_t> meta_message(uint8_t type, std::string_view data) {
  std::vector<uint8_t> message{0xFF, type};
  append_vlq(message, static_cast<uint32_t>(data.size()));
  message.insert(message.end(), data.begin(), data.end());
  return message;
}

// Writes one MTrk chunk. Deltas beyond the 4-byte VLQ range are bridged with empty text events.
void append_track(std::vector<uint8_t>& out, std::vector<TrackEvent>& events) {
  std::sort(events.begin(), events.end(), [](const TrackEvent& a, const TrackEvent& b) {
    return std::tie(a.tick, a.kind, a.secondary, a.sequence) <
           std::tie(b.tick, b.kind, b.secondary, b.sequence);
  });
  std::vector<uint8_t> body;
  int64_t tick = 0;
  uint8_t running_status = 0;
  for (const TrackEvent& event : events) {
    int64_t delta = event.tick - tick;
    while (delta > kMaxVlq) {
      append_vlq(body, kMaxVlq);
      const auto filler = meta_message(0x01, "");
      body.insert(body.end(), filler.begin(), filler.end());
      running_status = 0;
      delta -= kMaxVlq;
    }
    append_vlq(body, static_cast<uint32_t>(delta));
    tick = event.tick;
    const uint8_t status = event.message.front();
    const bool channel_message = status < 0xF0;
    const auto first = event.message.begin() + (channel_message && status == running_status);
    body.insert(body.end(), first, event.message.end());
    running_status = channel_message ? status : 0;
  }
  const auto end_of_track = meta_message(0x2F, "");
  body.push_back(0);
  body.insert(body.end(), end_of_track.begin(), end_of_track.end());

  if (body.size() > 0xFFFFFFFFu)
    reject(fmt::format("a track of {} bytes (at most 2^32 - 1)", body.size()));
  out.insert(out.end(), {'M', 'T', 'r', 'k'});
  append_u32(out, static_cast<uint32_t>(body.size()));
  out.insert(out.end(), body.begin(), body.end());
}

}  // namespace

std::vector<uint8_t> serialize_midi(const MidiFile& midi) {
  validate(midi);
  size_t track_count =
      std::max<size_t>({1, static_cast<size_t>(std::max(midi.tracks, 0)), midi.track_names.size()});
  for (const MidiNote& note : midi.notes) {
    track_count = std::max(track_count, static_cast<size_t>(note.track) + 1);
  }
  if (track_count > kMaxTracks) {
    reject(fmt::format("{} tracks (at most {})", track_count, kMaxTracks));
  }

  std::vector<std::vector<TrackEvent>> tracks(track_count);
  size_t sequence = 0;
  for (size_t track = 0; track < midi.track_names.size(); ++track) {
    if (midi.track_names[track].empty()) continue;
    tracks[track].push_back(
        {0, EventKind::kMeta, 0, sequence++, meta_message(0x03, midi.track_names[track])});
  }
  for (const TempoChange& tempo : midi.tempo_map) {
    const auto us = static_cast<uint32_t>(tempo.microseconds_per_quarter);
    const char data[3] = {static_cast<char>(us >> 16), static_cast<char>(us >> 8),
                          static_cast<char>(us)};
    tracks[0].push_back(
        {tempo.tick, EventKind::kMeta, 0, sequence++, meta_message(0x51, {data, 3})});
  }
  for (const TimeSignature& signature : midi.time_signatures) {
    const int exponent = std::countr_zero(static_cast<unsigned>(signature.denominator));
    // 24 MIDI clocks per metronome click, 8 thirty-second notes per quarter: the usual values.
    const char data[4] = {static_cast<char>(signature.numerator), static_cast<char>(exponent), 24,
                          8};
    tracks[0].push_back(
        {signature.tick, EventKind::kMeta, 0, sequence++, meta_message(0x58, {data, 4})});
  }
  for (const MidiNote& note : midi.notes) {
    const auto channel = static_cast<uint8_t>(note.channel);
    const auto pitch = static_cast<uint8_t>(note.pitch);
    auto& events = tracks[static_cast<size_t>(note.track)];
    events.push_back(
        {note.start_tick,
         EventKind::kNoteOn,
         note.end_tick,
         sequence,
         {static_cast<uint8_t>(0x90 | channel), pitch, static_cast<uint8_t>(note.velocity)}});
    events.push_back({note.end_tick,
                      EventKind::kNoteOff,
                      note.start_tick,
                      sequence++,
                      {static_cast<uint8_t>(0x80 | channel), pitch, 0x40}});
  }

  std::vector<uint8_t> out{'M', 'T', 'h', 'd'};
  append_u32(out, 6);
  append_u16(out, 1);
  append_u16(out, static_cast<uint32_t>(track_count));
  if (midi.smpte_frames_per_second != 0) {
    out.push_back(static_cast<uint8_t>(256 - midi.smpte_frames_per_second));
    out.push_back(static_cast<uint8_t>(midi.ticks_per_smpte_frame));
  } else {
    append_u16(out, static_cast<uint32_t>(midi.ticks_per_quarter));
  }
  for (auto& events : tracks)
    append_track(out, events);
  return out;
}

void write_midi(const std::filesystem::path& path, const MidiFile& midi) {
  std::vector<uint8_t> bytes;
  try {
    bytes = serialize_midi(midi);
  } catch (const InputError& e) {
    throw InputError(fmt::format("{}: {}", path.string(), e.what()));
  }
  write_file_atomic(path,
                    std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

}  // namespace cadenza
