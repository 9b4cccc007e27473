#include "metrics/music_stats.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <unordered_set>

#include "core/error.hpp"
#include "data/inspect.hpp"

namespace cadenza {
namespace {

constexpr std::array<const char*, 12> kPitchClassNames = {"C",  "C#", "D",  "D#", "E",  "F",
                                                          "F#", "G",  "G#", "A",  "A#", "B"};
constexpr std::array<int, 7> kMajorSteps = {0, 2, 4, 5, 7, 9, 11};
constexpr std::array<int, 7> kHarmonicMinorSteps = {0, 2, 3, 5, 7, 8, 11};

double ratio(int64_t part, int64_t whole) {
  return whole > 0 ? static_cast<double>(part) / static_cast<double>(whole) : 0.0;
}

template <size_t N>
std::array<double, N> normalised(const std::array<int64_t, N>& counts) {
  int64_t total = 0;
  for (const int64_t c : counts)
    total += c;
  std::array<double, N> distribution{};
  for (size_t i = 0; i < N; ++i)
    distribution[i] = ratio(counts[i], total);
  return distribution;
}

// KL(reference || generated) in nats over add-one smoothed bin counts.
template <size_t N>
double smoothed_kl(const std::array<int64_t, N>& reference,
                   const std::array<int64_t, N>& generated) {
  int64_t reference_total = 0, generated_total = 0;
  for (size_t i = 0; i < N; ++i) {
    reference_total += reference[i];
    generated_total += generated[i];
  }
  const double bins = static_cast<double>(N);
  double kl = 0.0;
  for (size_t i = 0; i < N; ++i) {
    const double p =
        (static_cast<double>(reference[i]) + 1.0) / (static_cast<double>(reference_total) + bins);
    const double q =
        (static_cast<double>(generated[i]) + 1.0) / (static_cast<double>(generated_total) + bins);
    kl += p * std::log(p / q);
  }
  return kl;
}

// The scale holding the most of `counts` (pitch-class counts) and how many it holds; "" and 0
// when every count is 0. Scales in the order C major, C minor, C# major, ... B minor; the first
// of equals wins.
std::pair<std::string, int64_t> best_scale_of(const std::array<int64_t, 12>& counts) {
  std::pair<std::string, int64_t> best = {"", 0};
  for (int root = 0; root < 12; ++root) {
    for (const auto* steps : {&kMajorSteps, &kHarmonicMinorSteps}) {
      int64_t inside = 0;
      for (const int step : *steps)
        inside += counts[static_cast<size_t>((root + step) % 12)];
      if (inside > best.second) {
        best = {std::string(kPitchClassNames[static_cast<size_t>(root)]) +
                    (steps == &kMajorSteps ? " major" : " minor"),
                inside};
      }
    }
  }
  return best;
}

std::string pitch_or_dash(int pitch) {
  return pitch < 0 ? "-" : pitch_name(pitch);
}

}  // namespace

void MusicStats::add(std::span<const uint8_t> cells, int64_t piece_frames, int pitches,
                     int lowest) {
  if (piece_frames < 0 || pitches < 1 ||
      cells.size() != static_cast<size_t>(piece_frames * pitches) || lowest < 0 ||
      lowest + pitches > 128) {
    throw Error(fmt::format(
        "MusicStats::add: {} cells for {} frames x {} pitches from MIDI pitch {}; expected "
        "frames x pitches cells within MIDI pitches 0..127",
        cells.size(), piece_frames, pitches, lowest));
  }
  ++pieces;
  frames += piece_frames;
  const auto row = [&](int64_t t) { return cells.data() + t * pitches; };
  std::array<int64_t, 12> piece_pitch_classes{};
  for (int64_t t = 0; t < piece_frames; ++t) {
    int sounding = 0;
    for (int p = 0; p < pitches; ++p) {
      if (row(t)[p] == 0) continue;
      ++sounding;
      const int pitch = lowest + p;
      ++piece_pitch_classes[static_cast<size_t>(pitch % 12)];
      lowest_pitch = lowest_pitch < 0 ? pitch : std::min(lowest_pitch, pitch);
      highest_pitch = std::max(highest_pitch, pitch);
    }
    sounding_cells += sounding;
    ++polyphony_counts[static_cast<size_t>(std::min(sounding, kPolyphonyBins - 1))];
    if (t > 0) {
      ++frame_transitions;
      repeated_frames += std::memcmp(row(t), row(t - 1), static_cast<size_t>(pitches)) == 0;
    }
  }
  in_scale_cells += best_scale_of(piece_pitch_classes).second;
  for (size_t c = 0; c < 12; ++c)
    pitch_class_counts[c] += piece_pitch_classes[c];
  for (int p = 0; p < pitches; ++p) {
    int64_t t = 0;
    while (t < piece_frames) {
      if (row(t)[p] == 0) {
        ++t;
        continue;
      }
      const int64_t start = t;
      while (t < piece_frames && row(t)[p] != 0)
        ++t;
      ++notes;
      ++note_length_counts[static_cast<size_t>(std::min<int64_t>(t - start, kNoteLengthBins) - 1)];
    }
  }
  // The melodic line: the highest note starting at each frame where one starts.
  int previous_top = -1;
  for (int64_t t = 0; t < piece_frames; ++t) {
    int top = -1;
    for (int p = pitches - 1; p >= 0 && top < 0; --p) {
      if (row(t)[p] != 0 && (t == 0 || row(t - 1)[p] == 0)) top = p;
    }
    if (top < 0) continue;
    if (previous_top >= 0) {
      const int step = std::clamp(top - previous_top, -(kMaxInterval + 1), kMaxInterval + 1);
      ++interval_counts[static_cast<size_t>(step + kMaxInterval + 1)];
    }
    previous_top = top;
  }
  std::unordered_set<std::string> seen;
  const size_t window = static_cast<size_t>(kPatternFrames * pitches);
  for (int64_t t = 0; t + kPatternFrames <= piece_frames; ++t) {
    std::string pattern(reinterpret_cast<const char*>(row(t)), window);
    if (std::all_of(pattern.begin(), pattern.end(), [](char cell) { return cell == 0; })) continue;
    ++patterns;
    repeated_patterns += !seen.insert(std::move(pattern)).second;
  }
}

void MusicStats::add(const PianoRoll& roll) {
  add(roll.cells, roll.frames, roll.pitches, roll.lowest_pitch);
}

std::array<double, kPolyphonyBins> MusicStats::polyphony_distribution() const {
  return normalised(polyphony_counts);
}

double MusicStats::mean_polyphony() const {
  return ratio(sounding_cells, frames);
}

double MusicStats::empty_frame_ratio() const {
  return ratio(polyphony_counts[0], frames);
}

int MusicStats::pitch_range() const {
  return lowest_pitch < 0 ? 0 : highest_pitch - lowest_pitch;
}

std::array<double, 12> MusicStats::pitch_class_histogram() const {
  return normalised(pitch_class_counts);
}

double MusicStats::scale_consistency() const {
  return ratio(in_scale_cells, sounding_cells);
}

ScaleMatch MusicStats::best_scale() const {
  const auto [name, inside] = best_scale_of(pitch_class_counts);
  return {name, ratio(inside, sounding_cells)};
}

std::array<double, kNoteLengthBins> MusicStats::note_length_distribution() const {
  return normalised(note_length_counts);
}

std::array<double, kIntervalBins> MusicStats::interval_distribution() const {
  return normalised(interval_counts);
}

double MusicStats::mean_note_length() const {
  return ratio(sounding_cells, notes);
}

double MusicStats::frame_repetition() const {
  return ratio(repeated_frames, frame_transitions);
}

double MusicStats::pattern_repetition() const {
  return ratio(repeated_patterns, patterns);
}

MusicStats music_stats(std::span<const PianoRoll> pieces) {
  MusicStats stats;
  for (const PianoRoll& roll : pieces)
    stats.add(roll);
  return stats;
}

MusicStats music_stats(const SplitRolls& split, int lowest_pitch) {
  MusicStats stats;
  for (int64_t s = 0; s < split.sequences(); ++s)
    stats.add(split.sequence_cells(s), split.length(s), split.pitches, lowest_pitch);
  return stats;
}

MusicDistances music_distances(const MusicStats& generated, const MusicStats& reference) {
  MusicDistances distances;
  distances.pitch_class_kl =
      smoothed_kl(reference.pitch_class_counts, generated.pitch_class_counts);
  distances.polyphony_kl = smoothed_kl(reference.polyphony_counts, generated.polyphony_counts);
  distances.note_length_kl =
      smoothed_kl(reference.note_length_counts, generated.note_length_counts);
  distances.interval_kl = smoothed_kl(reference.interval_counts, generated.interval_counts);
  return distances;
}

nlohmann::json music_stats_json(const MusicStats& stats) {
  nlohmann::json pitch_classes = nlohmann::json::object();
  const auto histogram = stats.pitch_class_histogram();
  for (int c = 0; c < 12; ++c)
    pitch_classes[kPitchClassNames[static_cast<size_t>(c)]] = histogram[static_cast<size_t>(c)];
  const ScaleMatch scale = stats.best_scale();
  return {
      {"pieces", stats.pieces},
      {"frames", stats.frames},
      {"notes", stats.notes},
      {"polyphony_distribution", stats.polyphony_distribution()},
      {"mean_polyphony", stats.mean_polyphony()},
      {"empty_frame_ratio", stats.empty_frame_ratio()},
      {"lowest_pitch", stats.lowest_pitch},
      {"highest_pitch", stats.highest_pitch},
      {"pitch_range", stats.pitch_range()},
      {"pitch_class_histogram", pitch_classes},
      {"scale_consistency", stats.scale_consistency()},
      {"best_scale", scale.name},
      {"best_scale_fraction", scale.fraction},
      {"note_length_distribution", stats.note_length_distribution()},
      {"mean_note_length", stats.mean_note_length()},
      {"interval_distribution", stats.interval_distribution()},
      {"frame_repetition", stats.frame_repetition()},
      {"pattern_repetition", stats.pattern_repetition()},
      {"counts",
       {{"sounding_cells", stats.sounding_cells},
        {"polyphony", stats.polyphony_counts},
        {"pitch_classes", stats.pitch_class_counts},
        {"note_lengths", stats.note_length_counts},
        {"intervals", stats.interval_counts},
        {"in_scale_cells", stats.in_scale_cells},
        {"repeated_frames", stats.repeated_frames},
        {"frame_transitions", stats.frame_transitions},
        {"repeated_patterns", stats.repeated_patterns},
        {"patterns", stats.patterns}}},
  };
}

nlohmann::json music_distances_json(const MusicDistances& distances) {
  return {{"pitch_class_kl", distances.pitch_class_kl},
          {"polyphony_kl", distances.polyphony_kl},
          {"note_length_kl", distances.note_length_kl},
          {"interval_kl", distances.interval_kl}};
}

std::string music_stats_table(std::string_view reference_name, const MusicStats& reference,
                              const std::vector<std::pair<std::string, MusicStats>>& compared) {
  // Rows of cells: the label, the reference's value, then each compared set's value.
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header = {"statistic", std::string(reference_name)};
  for (const auto& [name, stats] : compared)
    header.push_back(name);
  rows.push_back(header);
  const auto add_row = [&](std::string label, auto&& value_of) {
    std::vector<std::string> row = {std::move(label), value_of(reference)};
    for (const auto& [name, stats] : compared)
      row.push_back(value_of(stats));
    rows.push_back(std::move(row));
  };
  add_row("pieces", [](const MusicStats& s) { return fmt::format("{}", s.pieces); });
  add_row("frames", [](const MusicStats& s) { return fmt::format("{}", s.frames); });
  add_row("notes", [](const MusicStats& s) { return fmt::format("{}", s.notes); });
  add_row("mean polyphony",
          [](const MusicStats& s) { return fmt::format("{:.3f}", s.mean_polyphony()); });
  add_row("empty-frame ratio",
          [](const MusicStats& s) { return fmt::format("{:.3f}", s.empty_frame_ratio()); });
  add_row("pitch range", [](const MusicStats& s) {
    return fmt::format("{}..{} ({})", pitch_or_dash(s.lowest_pitch), pitch_or_dash(s.highest_pitch),
                       s.pitch_range());
  });
  add_row("scale consistency",
          [](const MusicStats& s) { return fmt::format("{:.3f}", s.scale_consistency()); });
  add_row("best scale of the set", [](const MusicStats& s) {
    const ScaleMatch scale = s.best_scale();
    return scale.name.empty() ? std::string("-")
                              : fmt::format("{} ({:.3f})", scale.name, scale.fraction);
  });
  add_row("mean note length (frames)",
          [](const MusicStats& s) { return fmt::format("{:.2f}", s.mean_note_length()); });
  add_row("frame repetition",
          [](const MusicStats& s) { return fmt::format("{:.3f}", s.frame_repetition()); });
  add_row("pattern repetition",
          [](const MusicStats& s) { return fmt::format("{:.3f}", s.pattern_repetition()); });
  const auto add_distance_row = [&](std::string label, double MusicDistances::*member) {
    std::vector<std::string> row = {std::move(label), "-"};
    for (const auto& [name, stats] : compared)
      row.push_back(fmt::format("{:.4f}", music_distances(stats, reference).*member));
    rows.push_back(std::move(row));
  };
  add_distance_row(fmt::format("KL pitch classes ({} || .)", reference_name),
                   &MusicDistances::pitch_class_kl);
  add_distance_row(fmt::format("KL polyphony ({} || .)", reference_name),
                   &MusicDistances::polyphony_kl);
  add_distance_row(fmt::format("KL note lengths ({} || .)", reference_name),
                   &MusicDistances::note_length_kl);
  add_distance_row(fmt::format("KL intervals ({} || .)", reference_name),
                   &MusicDistances::interval_kl);

  std::vector<size_t> widths(header.size(), 0);
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size(); ++c)
      widths[c] = std::max(widths[c], row[c].size());
  }
  std::string table;
  for (const auto& row : rows) {
    table += fmt::format("{:<{}}", row[0], widths[0]);
    for (size_t c = 1; c < row.size(); ++c)
      table += fmt::format("  {:>{}}", row[c], widths[c]);
    table += "\n";
  }
  return table;
}

}  // namespace cadenza
