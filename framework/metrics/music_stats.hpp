// Music statistics of piano rolls, and distances between the statistics of generated music and
// of a reference set (a dataset split), so that variants can be compared on the music they write
// as well as on nll. Used by `cadenza generate --stats` and meant for `cadenza compare`.
//
// A note is a maximal run of consecutive sounding frames of one key (what piano_roll_to_midi
// writes); a sounding cell is one (frame, key) that sounds. Statistics of a set of pieces pool
// the counts of every piece, so long pieces weigh more:
//
//   polyphony distribution  fraction of frames with exactly n keys sounding, n = 0 ..
//                           kPolyphonyBins - 2; the last bin holds every frame with
//                           kPolyphonyBins - 1 or more keys.
//   mean polyphony          sounding cells / frames.
//   empty-frame ratio       fraction of frames in which no key sounds.
//   pitch range             lowest and highest sounding MIDI pitch, and their distance in
//                           semitones (0, with pitches -1, when nothing sounds).
//   pitch-class histogram   fraction of sounding cells whose pitch is in class c (0 = C .. 11 = B):
//                           weighted by duration, so a held note counts once per frame.
//   scale consistency       per piece, the largest fraction of its sounding cells inside one
//                           scale, over the 24 scales: 12 major and 12 harmonic minor (the natural
//                           minor has the pitch classes of its relative major, so it would add
//                           nothing); for a set, those in-scale cells summed over the pieces /
//                           all sounding cells, so that each piece is judged in its own key.
//   best scale              the scale holding the most sounding cells of the whole set (for one
//                           piece, its key), e.g. "G major", with that fraction; ties go to the
//                           first of C major, C minor, C# major, ... B minor.
//   note-length distribution  bin n - 1: fraction of notes lasting n frames, n = 1 ..
//                           kNoteLengthBins - 1; the last bin holds every note of kNoteLengthBins
//                           frames or more. Mean note length = sounding cells / notes (uncapped).
//   interval distribution   the melodic line: at each frame where a note starts, the highest
//                           starting pitch; bin i holds the steps between consecutive ones of a
//                           piece of i - kMaxInterval semitones (down when negative), the first
//                           and the last bins every leap of more than an octave down or up. For a
//                           melody, the intervals between consecutive notes (a note struck again
//                           without a rest is one note here, as in the note lengths).
//   frame repetition        fraction of frame transitions (frame t-1 -> t, t >= 1, within a
//                           piece) where frame t sounds exactly the keys of frame t-1: held or
//                           re-struck chords; 1 for a piece stuck on one chord.
//   pattern repetition      fraction of the windows of kPatternFrames consecutive frames (every
//                           start t = 0 .. T - kPatternFrames, windows in which nothing sounds left
//                           out) that are identical to a window starting earlier in the same
//                           piece: repeated motifs; a looping generator scores near 1.
//
// Distances from a reference (music_distances): for the pitch-class, polyphony, note-length and
// interval histograms, KL(reference || generated) = sum_i p_i ln(p_i / q_i) in nats, where p and q
// come from the bin counts with add-one (Laplace) smoothing, p_i = (count_i + 1) / (total + bins),
// so that a bin the generated music never visits costs a finite amount. 0 means the same shape.
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "data/dataset.hpp"
#include "data/piano_roll.hpp"

namespace cadenza {

inline constexpr int kPolyphonyBins = 16;
inline constexpr int kNoteLengthBins = 16;
inline constexpr int kPatternFrames = 4;
inline constexpr int kMaxInterval = 12;                           // semitones, one octave
inline constexpr int kIntervalBins = 2 * (kMaxInterval + 1) + 1;  // -13 (below) .. +13 (above)

struct ScaleMatch {
  std::string name;     // "C major", "A minor" (harmonic), "" when nothing sounds
  double fraction = 0;  // of sounding cells inside the scale
};

// Pooled counts over pieces; the statistics above are derived from them on demand.
struct MusicStats {
  int64_t pieces = 0;
  int64_t frames = 0;
  int64_t notes = 0;
  int64_t sounding_cells = 0;
  std::array<int64_t, kPolyphonyBins> polyphony_counts{};
  std::array<int64_t, 12> pitch_class_counts{};
  std::array<int64_t, kNoteLengthBins> note_length_counts{};
  std::array<int64_t, kIntervalBins> interval_counts{};
  int64_t in_scale_cells = 0;  // summed over pieces: cells in each piece's best scale
  int64_t repeated_frames = 0, frame_transitions = 0;
  int64_t repeated_patterns = 0, patterns = 0;
  int lowest_pitch = -1, highest_pitch = -1;  // MIDI; -1 when nothing sounds

  // Pools one piece: cells [frames, pitches] of 0/1, column p = MIDI pitch lowest_pitch + p.
  void add(std::span<const uint8_t> cells, int64_t piece_frames, int pitches, int lowest);
  void add(const PianoRoll& roll);

  std::array<double, kPolyphonyBins> polyphony_distribution() const;
  double mean_polyphony() const;
  double empty_frame_ratio() const;
  int pitch_range() const;
  std::array<double, 12> pitch_class_histogram() const;
  double scale_consistency() const;
  ScaleMatch best_scale() const;
  std::array<double, kNoteLengthBins> note_length_distribution() const;
  double mean_note_length() const;
  std::array<double, kIntervalBins> interval_distribution() const;
  double frame_repetition() const;
  double pattern_repetition() const;
};

// Statistics of pieces (e.g. generated samples, or frames [first, end) of each of them).
MusicStats music_stats(std::span<const PianoRoll> pieces);
// Statistics of every sequence of a dataset split; column p is MIDI pitch lowest_pitch + p.
MusicStats music_stats(const SplitRolls& split, int lowest_pitch);

struct MusicDistances {
  double pitch_class_kl = 0;  // nats, KL(reference || generated), add-one smoothing
  double polyphony_kl = 0;
  double note_length_kl = 0;
  double interval_kl = 0;
};

MusicDistances music_distances(const MusicStats& generated, const MusicStats& reference);

// Every count and derived statistic, under the names used above (snake_case).
nlohmann::json music_stats_json(const MusicStats& stats);
nlohmann::json music_distances_json(const MusicDistances& distances);

// A text table: one row per statistic, one column for the reference (e.g. "test") and one per
// compared set (e.g. "generated", or one per model variant), then rows of each set's distances
// from the reference.
std::string music_stats_table(std::string_view reference_name, const MusicStats& reference,
                              const std::vector<std::pair<std::string, MusicStats>>& compared);

}  // namespace cadenza
