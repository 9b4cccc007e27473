// Standard MIDI File parser. Every read is bounds-checked against the chunk it belongs to, every
// loop consumes at least one byte per turn, and nothing is allocated from a length field: vectors
// only grow with events actually present in the file.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <string>
#include <tuple>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "data/midi.hpp"

namespace cadenza {
namespace {

constexpr int kChannels = 16;
constexpr int kPitches = 128;
constexpr size_t kChunkHeaderBytes = 8;

// A cursor over bytes[begin, end) of the file; errors carry the file name and absolute offset.
class ByteCursor {
 public:
  ByteCursor(std::span<const uint8_t> bytes, std::string_view name, size_t begin, size_t end)
      : bytes_(bytes), name_(name), position_(begin), end_(end) {}

  size_t position() const { return position_; }
  size_t remaining() const { return end_ - position_; }
  bool at_end() const { return position_ >= end_; }

  [[noreturn]] void fail_at(size_t offset, std::string_view what) const {
    throw InputError(fmt::format("file {}: byte offset {}: {}", name_, offset, what));
  }

  uint8_t peek(std::string_view what) const {
    if (at_end()) fail_at(position_, fmt::format("{} expected, but the chunk ends here", what));
    return bytes_[position_];
  }
  uint8_t read_byte(std::string_view what) {
    const uint8_t value = peek(what);
    ++position_;
    return value;
  }
  uint8_t read_data_byte(std::string_view what) {
    const size_t offset = position_;
    const uint8_t value = read_byte(what);
    if (value >= 0x80) {
      fail_at(offset,
              fmt::format("{} must be a data byte (0x00-0x7F), found 0x{:02X}", what, value));
    }
    return value;
  }
  uint32_t read_u16() {
    const uint32_t high = read_byte("16-bit value");
    return (high << 8) | read_byte("16-bit value");
  }
  uint32_t read_u32() {
    const uint32_t high = read_u16();
    return (high << 16) | read_u16();
  }
  // A variable-length quantity: 7 bits per byte, high bit set on all but the last, at most 4
  // bytes (values up to 0x0FFFFFFF), as the SMF specification allows.
  uint32_t read_vlq(std::string_view what) {
    const size_t start = position_;
    uint32_t value = 0;
    for (int count = 0; count < 4; ++count) {
      const uint8_t byte = read_byte(what);
      value = (value << 7) | (byte & 0x7Fu);
      if (byte < 0x80) return value;
    }
    fail_at(start, fmt::format("{} is a variable-length quantity longer than 4 bytes", what));
  }
  // Checks that `length` bytes remain and skips them, returning where they start.
  size_t skip(uint32_t length, std::string_view what) {
    if (length > remaining()) {
      fail_at(position_, fmt::format("{} declares {} bytes but only {} remain in the chunk", what,
                                     length, remaining()));
    }
    const size_t start = position_;
    position_ += length;
    return start;
  }
  const uint8_t* data_at(size_t offset) const { return bytes_.data() + offset; }

 private:
  std::span<const uint8_t> bytes_;
  std::string_view name_;
  size_t position_;
  size_t end_;
};

// Four bytes as text when printable, else as hex, for error messages about chunk ids.
std::string describe_tag(const uint8_t* tag, size_t length) {
  const bool printable =
      std::all_of(tag, tag + length, [](uint8_t c) { return std::isprint(c) != 0; });
  if (printable) return fmt::format("'{}'", std::string(tag, tag + length));
  std::string hex;
  for (size_t i = 0; i < length; ++i)
    hex += fmt::format("{}{:02X}", i ? " " : "", tag[i]);
  return fmt::format("bytes {}", hex);
}

// Data bytes that follow a system common or real-time status byte on the MIDI wire.
int system_message_data_bytes(uint8_t status) {
  switch (status) {
    case 0xF1:  // MIDI time code quarter frame
    case 0xF3:  // song select
      return 1;
    case 0xF2:  // song position pointer
      return 2;
    default:  // tune request, real-time messages and undefined F4, F5, F9, FD
      return 0;
  }
}

// Sounding notes of one (channel, pitch), oldest first. Popped entries stay in `onsets` until
// the queue empties, so pairing is amortised O(1) even for long runs of repeated note-ons.
struct OpenNotes {
  struct Onset {
    int64_t tick;
    int velocity;
  };
  std::vector<Onset> onsets;
  size_t head = 0;

  bool empty() const { return head == onsets.size(); }
  Onset pop_oldest() {
    const Onset oldest = onsets[head++];
    if (empty()) {
      onsets.clear();
      head = 0;
    }
    return oldest;
  }
};

class TrackParser {
 public:
  TrackParser(MidiFile& midi, std::string_view name) : midi_(midi), name_(name) {
    open_.resize(kChannels * kPitches);
  }

  // Parses one MTrk chunk body, bytes[begin, end). `tick_offset` is added to every tick (format 2
  // lays tracks end to end). Returns the track's length in ticks.
  int64_t parse(std::span<const uint8_t> bytes, size_t begin, size_t end, int track,
                int64_t tick_offset) {
    ByteCursor cursor(bytes, name_, begin, end);
    track_ = track;
    int64_t tick = 0;
    uint8_t running_status = 0;
    bool named = false;
    while (!cursor.at_end()) {
      tick += cursor.read_vlq("delta time");
      const size_t event_offset = cursor.position();
      uint8_t status = cursor.peek("event status byte");
      if (status < 0x80) {
        if (running_status == 0) {
          cursor.fail_at(event_offset,
                         fmt::format("data byte 0x{:02X} where a status byte was expected (no "
                                     "channel message yet to continue with running status)",
                                     status));
        }
        status = running_status;
      } else {
        cursor.read_byte("event status byte");
      }

      if (status < 0xF0) {
        running_status = status;
        handle_channel_message(cursor, status, tick + tick_offset);
      } else if (status == 0xFF) {
        const uint8_t type = cursor.read_byte("meta event type");
        const uint32_t length = cursor.read_vlq("meta event length");
        const size_t data = cursor.skip(length, fmt::format("meta event 0x{:02X}", type));
        if (type == 0x2F) {
          close_open_notes(tick + tick_offset);
          return tick;
        }
        handle_meta_event(cursor, type, data, length, tick + tick_offset, named);
      } else if (status == 0xF0 || status == 0xF7) {
        const uint32_t length = cursor.read_vlq("sysex length");
        cursor.skip(length, "sysex event");
      } else {
        for (int i = system_message_data_bytes(status); i > 0; --i) {
          cursor.read_data_byte(fmt::format("data of system message 0x{:02X}", status));
        }
      }
    }
    close_open_notes(tick + tick_offset);
    return tick;
  }

 private:
  void handle_channel_message(ByteCursor& cursor, uint8_t status, int64_t tick) {
    const int kind = status & 0xF0;
    const int channel = status & 0x0F;
    const bool one_data_byte = kind == 0xC0 || kind == 0xD0;
    const auto what = fmt::format("data of channel message 0x{:02X}", status);
    const uint8_t first = cursor.read_data_byte(what);
    const uint8_t second = one_data_byte ? 0 : cursor.read_data_byte(what);
    if (kind == 0x90 && second > 0) {
      OpenNotes& open = open_[channel * kPitches + first];
      if (open.empty()) touched_.push_back(channel * kPitches + first);
      open.onsets.push_back({tick, second});
    } else if (kind == 0x80 || kind == 0x90) {
      end_note(channel, first, tick);
    }
  }

  void handle_meta_event(const ByteCursor& cursor, uint8_t type, size_t data, uint32_t length,
                         int64_t tick, bool& named) {
    const uint8_t* bytes = cursor.data_at(data);
    if (type == 0x51) {
      if (length < 3) {
        cursor.fail_at(data, fmt::format("tempo event has {} data bytes, expected 3", length));
      }
      const int microseconds = (bytes[0] << 16) | (bytes[1] << 8) | bytes[2];
      if (microseconds == 0) cursor.fail_at(data, "tempo of 0 microseconds per quarter note");
      midi_.tempo_map.push_back({tick, microseconds});
    } else if (type == 0x58) {
      if (length < 2) {
        cursor.fail_at(data, fmt::format("time signature has {} data bytes, expected 4", length));
      }
      if (bytes[1] > 30) {
        cursor.fail_at(data + 1, fmt::format("time signature denominator 2^{} is out of range "
                                             "(exponent 0..30)",
                                             bytes[1]));
      }
      midi_.time_signatures.push_back({tick, bytes[0], 1 << bytes[1]});
    } else if (type == 0x03 && !named) {
      midi_.track_names.back().assign(bytes, bytes + length);
      named = true;
    }
  }

  void end_note(int channel, int pitch, int64_t tick) {
    OpenNotes& open = open_[channel * kPitches + pitch];
    if (open.empty()) return;
    const OpenNotes::Onset onset = open.pop_oldest();
    if (tick > onset.tick) {
      midi_.notes.push_back({onset.tick, tick, pitch, onset.velocity, channel, track_});
    }
  }

  void close_open_notes(int64_t tick) {
    for (const int key : touched_) {
      while (!open_[key].empty())
        end_note(key / kPitches, key % kPitches, tick);
    }
    touched_.clear();
  }

  MidiFile& midi_;
  std::string_view name_;
  int track_ = 0;
  std::vector<OpenNotes> open_;  // indexed by channel * 128 + pitch
  std::vector<int> touched_;     // keys whose queue became non-empty in this track
};

void read_division(ByteCursor& cursor, MidiFile& midi) {
  const size_t offset = cursor.position();
  const uint32_t division = cursor.read_u16();
  if (division & 0x8000u) {
    const int frames_per_second = 256 - static_cast<int>(division >> 8);
    const int ticks_per_frame = static_cast<int>(division & 0xFFu);
    if (frames_per_second != 24 && frames_per_second != 25 && frames_per_second != 29 &&
        frames_per_second != 30) {
      cursor.fail_at(offset, fmt::format("SMPTE division with {} frames per second (expected 24, "
                                         "25, 29 or 30)",
                                         frames_per_second));
    }
    if (ticks_per_frame == 0) cursor.fail_at(offset + 1, "SMPTE division with 0 ticks per frame");
    midi.ticks_per_quarter = 0;
    midi.smpte_frames_per_second = frames_per_second;
    midi.ticks_per_smpte_frame = ticks_per_frame;
  } else {
    if (division == 0) cursor.fail_at(offset, "division of 0 ticks per quarter note");
    midi.ticks_per_quarter = static_cast<int>(division);
  }
}

}  // namespace

MidiFile parse_midi(std::span<const uint8_t> bytes, std::string_view name) {
  ByteCursor cursor(bytes, name, 0, bytes.size());
  if (bytes.empty()) cursor.fail_at(0, "empty file; a Standard MIDI File starts with 'MThd'");
  const size_t tag_length = std::min<size_t>(4, bytes.size());
  if (bytes.size() < 4 || !std::equal(bytes.begin(), bytes.begin() + 4, "MThd")) {
    cursor.fail_at(0, fmt::format("not a Standard MIDI File: expected 'MThd', found {}",
                                  describe_tag(bytes.data(), tag_length)));
  }
  cursor.skip(4, "header tag");
  const uint32_t header_length = cursor.read_u32();
  if (header_length < 6) {
    cursor.fail_at(4, fmt::format("header chunk length {} is shorter than 6", header_length));
  }
  const size_t header_begin = cursor.skip(header_length, "header chunk");
  ByteCursor header(bytes, name, header_begin, header_begin + header_length);
  MidiFile midi;
  const size_t format_offset = header.position();
  midi.format = static_cast<int>(header.read_u16());
  if (midi.format > 2) {
    header.fail_at(format_offset,
                   fmt::format("unsupported SMF format {} (expected 0, 1 or 2)", midi.format));
  }
  const uint32_t declared_tracks = header.read_u16();
  if (declared_tracks == 0) {
    header.fail_at(format_offset + 2, "the header declares 0 tracks (expected at least 1)");
  }
  read_division(header, midi);

  TrackParser parser(midi, name);
  int64_t format2_offset = 0;
  while (static_cast<uint32_t>(midi.tracks) < declared_tracks) {
    const size_t chunk_offset = cursor.position();
    if (cursor.remaining() < kChunkHeaderBytes) {
      cursor.fail_at(chunk_offset,
                     fmt::format("file ends after {} of the {} tracks the header declares ({} "
                                 "bytes left, a chunk header needs 8)",
                                 midi.tracks, declared_tracks, cursor.remaining()));
    }
    const uint8_t* tag = cursor.data_at(chunk_offset);
    cursor.skip(4, "chunk tag");
    const uint32_t length = cursor.read_u32();
    if (length > cursor.remaining()) {
      cursor.fail_at(chunk_offset,
                     fmt::format("chunk {} declares {} bytes but only {} remain in the file "
                                 "(truncated?)",
                                 describe_tag(tag, 4), length, cursor.remaining()));
    }
    const size_t body = cursor.skip(length, "chunk");
    if (!std::equal(tag, tag + 4, "MTrk")) continue;
    midi.track_names.emplace_back();
    const int64_t length_ticks =
        parser.parse(bytes, body, body + length, midi.tracks, format2_offset);
    if (midi.format == 2) format2_offset += length_ticks;
    ++midi.tracks;
  }

  const auto by_tick = [](const auto& a, const auto& b) { return a.tick < b.tick; };
  std::stable_sort(midi.tempo_map.begin(), midi.tempo_map.end(), by_tick);
  std::stable_sort(midi.time_signatures.begin(), midi.time_signatures.end(), by_tick);
  std::sort(midi.notes.begin(), midi.notes.end(), [](const MidiNote& a, const MidiNote& b) {
    return std::tie(a.start_tick, a.pitch, a.track, a.channel, a.end_tick, a.velocity) <
           std::tie(b.start_tick, b.pitch, b.track, b.channel, b.end_tick, b.velocity);
  });
  return midi;
}

MidiFile read_midi(const std::filesystem::path& path) {
  const std::string content = read_file(path);
  return parse_midi(std::span(reinterpret_cast<const uint8_t*>(content.data()), content.size()),
                    path.string());
}

}  // namespace cadenza
