#include "data/inspect.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace cadenza {

double SplitStatistics::mean_polyphony() const {
  return frames == 0 ? 0.0 : static_cast<double>(active_cells) / static_cast<double>(frames);
}

double SplitStatistics::silence_ratio() const {
  return frames == 0 ? 0.0 : static_cast<double>(silent_frames) / static_cast<double>(frames);
}

int SplitStatistics::max_polyphony() const {
  for (size_t k = polyphony_histogram.size(); k > 0; --k) {
    if (polyphony_histogram[k - 1] > 0) return static_cast<int>(k - 1);
  }
  return 0;
}

SplitStatistics compute_split_statistics(const SplitRolls& split) {
  SplitStatistics statistics;
  statistics.sequences = split.sequences();
  statistics.frames = split.frames();
  statistics.polyphony_histogram.assign(static_cast<size_t>(split.pitches) + 1, 0);
  statistics.pitch_histogram.assign(static_cast<size_t>(split.pitches), 0);
  for (int64_t i = 0; i < split.sequences(); ++i) {
    const int64_t length = split.length(i);
    statistics.shortest = i == 0 ? length : std::min(statistics.shortest, length);
    statistics.longest = std::max(statistics.longest, length);
  }
  const auto pitches = static_cast<size_t>(split.pitches);
  for (int64_t t = 0; t < split.frames(); ++t) {
    const uint8_t* frame = split.cells.data() + static_cast<size_t>(t) * pitches;
    size_t sounding = 0;
    for (size_t p = 0; p < pitches; ++p) {
      sounding += frame[p];
      statistics.pitch_histogram[p] += frame[p];
    }
    ++statistics.polyphony_histogram[sounding];
    statistics.active_cells += static_cast<int64_t>(sounding);
    if (sounding == 0) ++statistics.silent_frames;
  }
  return statistics;
}

std::string pitch_name(int midi_pitch) {
  static constexpr std::array<const char*, 12> kNames = {"C",  "C#", "D",  "D#", "E",  "F",
                                                         "F#", "G",  "G#", "A",  "A#", "B"};
  return fmt::format("{}{}", kNames[static_cast<size_t>(midi_pitch % 12)], midi_pitch / 12 - 1);
}

std::string format_inspection(const DatasetInfo& info,
                              const std::array<SplitStatistics, 3>& statistics) {
  std::string out;
  const int highest = info.lowest_pitch + info.num_pitches - 1;
  out += fmt::format("dataset             {}\n", info.name);
  out += fmt::format("source              {}\n", info.source);
  out += fmt::format("source sha256       {}\n", info.source_sha256);
  out += fmt::format("created by          {}\n", info.created_by);
  out += fmt::format("frames per quarter  {}\n", info.frames_per_quarter == 0
                                                     ? std::string("unknown")
                                                     : std::to_string(info.frames_per_quarter));
  out +=
      fmt::format("pitches             {} (MIDI {} {} .. {} {})\n\n", info.num_pitches,
                  info.lowest_pitch, pitch_name(info.lowest_pitch), highest, pitch_name(highest));

  out += fmt::format("{:<6} {:>10} {:>10} {:>9} {:>9} {:>14} {:>14} {:>14}\n", "split", "sequences",
                     "frames", "shortest", "longest", "mean polyphony", "max polyphony",
                     "silence ratio");
  for (size_t s = 0; s < statistics.size(); ++s) {
    const auto& stats = statistics[s];
    out += fmt::format("{:<6} {:>10} {:>10} {:>9} {:>9} {:>14.4f} {:>14} {:>14.4f}\n",
                       kSplitNames[s], stats.sequences, stats.frames, stats.shortest, stats.longest,
                       stats.mean_polyphony(), stats.max_polyphony(), stats.silence_ratio());
  }

  int max_polyphony = 0;
  for (const auto& stats : statistics)
    max_polyphony = std::max(max_polyphony, stats.max_polyphony());
  out += "\npolyphony histogram (frames with exactly k pitches sounding)\n";
  out += fmt::format("{:>9} {:>10} {:>10} {:>10}\n", "k", "train", "valid", "test");
  for (int k = 0; k <= max_polyphony; ++k) {
    const auto at = [k](const SplitStatistics& stats) {
      return stats.polyphony_histogram.empty() ? int64_t{0}
                                               : stats.polyphony_histogram[static_cast<size_t>(k)];
    };
    out += fmt::format("{:>9} {:>10} {:>10} {:>10}\n", k, at(statistics[0]), at(statistics[1]),
                       at(statistics[2]));
  }

  out += "\npitch histogram (frames in which each pitch sounds; silent pitches omitted)\n";
  out += fmt::format("{:>9} {:>10} {:>10} {:>10}\n", "pitch", "train", "valid", "test");
  int silent_pitches = 0;
  for (int p = 0; p < info.num_pitches; ++p) {
    const auto at = [p](const SplitStatistics& stats) {
      return stats.pitch_histogram.empty() ? int64_t{0}
                                           : stats.pitch_histogram[static_cast<size_t>(p)];
    };
    if (at(statistics[0]) + at(statistics[1]) + at(statistics[2]) == 0) {
      ++silent_pitches;
      continue;
    }
    const int midi_pitch = info.lowest_pitch + p;
    out += fmt::format("{:>4} {:>4} {:>10} {:>10} {:>10}\n", midi_pitch, pitch_name(midi_pitch),
                       at(statistics[0]), at(statistics[1]), at(statistics[2]));
  }
  out += fmt::format("pitches that never sound: {}\n", silent_pitches);
  return out;
}

std::string format_token_inspection(const TokenDataset& dataset) {
  const auto& info = dataset.info;
  const MelodyVocabulary vocabulary = melody_vocabulary(info);
  std::string out = fmt::format(
      "name                {}\nsource              {}\nsource sha256       {}\n"
      "kind                tokens, {} steps per quarter note\n"
      "vocabulary          {} classes: NO_EVENT, NOTE_OFF, NOTE_ON {}..{} ({}..{})\n",
      info.name, info.source, info.source_sha256, info.frames_per_quarter, vocabulary.size(),
      info.lowest_pitch, info.lowest_pitch + info.num_pitches - 1, pitch_name(info.lowest_pitch),
      pitch_name(info.lowest_pitch + info.num_pitches - 1));
  out +=
      fmt::format("{:<6} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>7}\n", "split", "sequences",
                  "events", "shortest", "longest", "note_on", "note_off", "no_event", "pitches");
  for (size_t s = 0; s < kSplitNames.size(); ++s) {
    const SplitTokens& split = dataset.splits[s];
    int64_t shortest = 0, longest = 0;
    for (int64_t i = 0; i < split.sequences(); ++i) {
      shortest = i == 0 ? split.length(i) : std::min(shortest, split.length(i));
      longest = std::max(longest, split.length(i));
    }
    std::array<int64_t, 3> counts{};  // NOTE_ON, NOTE_OFF, NO_EVENT
    int lowest = 128, highest = -1;
    for (const int16_t event : split.events) {
      if (vocabulary.is_note_on(event)) {
        ++counts[0];
        lowest = std::min(lowest, vocabulary.pitch_of(event));
        highest = std::max(highest, vocabulary.pitch_of(event));
      } else {
        ++counts[event == kNoteOff ? 1 : 2];
      }
    }
    const double total = std::max<double>(1.0, static_cast<double>(split.total_events()));
    out += fmt::format("{:<6} {:>9} {:>9} {:>8} {:>8} {:>8.4f} {:>8.4f} {:>8.4f} {:>7}\n",
                       kSplitNames[s], split.sequences(), split.total_events(), shortest, longest,
                       counts[0] / total, counts[1] / total, counts[2] / total,
                       highest < 0 ? std::string("-") : fmt::format("{}..{}", lowest, highest));
  }
  return out;
}

}  // namespace cadenza
