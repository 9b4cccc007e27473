// Music statistics (metrics/music_stats.hpp) on hand-built piano rolls whose answers are worked
// out by hand in the comments, and the distances between sets of pieces.
#include <gtest/gtest.h>

#include <cmath>
#include <initializer_list>
#include <vector>

#include "core/error.hpp"
#include "metrics/music_stats.hpp"

namespace cadenza {
namespace {

constexpr int kC4 = 60, kD4 = 62, kE4 = 64, kG4 = 67;

// A roll of one octave (MIDI 60..71); frames[t] lists the MIDI pitches sounding in frame t.
PianoRoll octave_roll(std::initializer_list<std::vector<int>> frames) {
  PianoRoll roll;
  roll.pitches = 12;
  roll.lowest_pitch = 60;
  roll.frames = static_cast<int64_t>(frames.size());
  roll.cells.assign(static_cast<size_t>(roll.frames * 12), 0);
  int64_t t = 0;
  for (const auto& pitches : frames) {
    for (const int pitch : pitches)
      roll.at(t, pitch - 60) = 1;
    ++t;
  }
  return roll;
}

// C E G twice, silence, D, then the same four frames again.
PianoRoll two_phrases() {
  const std::vector<int> triad = {kC4, kE4, kG4};
  return octave_roll({triad, triad, {}, {kD4}, triad, triad, {}, {kD4}});
}

TEST(MusicStats, HandBuiltPhrasesGiveTheWorkedOutAnswers) {
  MusicStats stats;
  stats.add(two_phrases());
  EXPECT_EQ(stats.pieces, 1);
  EXPECT_EQ(stats.frames, 8);
  // Polyphony: four triads, two single notes, two empty frames.
  const auto polyphony = stats.polyphony_distribution();
  EXPECT_DOUBLE_EQ(polyphony[0], 2.0 / 8);
  EXPECT_DOUBLE_EQ(polyphony[1], 2.0 / 8);
  EXPECT_DOUBLE_EQ(polyphony[2], 0.0);
  EXPECT_DOUBLE_EQ(polyphony[3], 4.0 / 8);
  EXPECT_DOUBLE_EQ(stats.mean_polyphony(), 14.0 / 8);
  EXPECT_DOUBLE_EQ(stats.empty_frame_ratio(), 0.25);
  // Range C4..G4.
  EXPECT_EQ(stats.lowest_pitch, kC4);
  EXPECT_EQ(stats.highest_pitch, kG4);
  EXPECT_EQ(stats.pitch_range(), 7);
  // Sounding cells: C, E, G 4 each, D 2.
  const auto classes = stats.pitch_class_histogram();
  EXPECT_DOUBLE_EQ(classes[0], 4.0 / 14);
  EXPECT_DOUBLE_EQ(classes[2], 2.0 / 14);
  EXPECT_DOUBLE_EQ(classes[4], 4.0 / 14);
  EXPECT_DOUBLE_EQ(classes[7], 4.0 / 14);
  EXPECT_DOUBLE_EQ(classes[1] + classes[3] + classes[5] + classes[6], 0.0);
  // Every note is in C major (also in G and F major: the first scale in order wins).
  EXPECT_EQ(stats.best_scale().name, "C major");
  EXPECT_DOUBLE_EQ(stats.best_scale().fraction, 1.0);
  EXPECT_DOUBLE_EQ(stats.scale_consistency(), 1.0);
  // Notes: C, E, G twice each for 2 frames; D twice for 1 frame.
  EXPECT_EQ(stats.notes, 8);
  const auto lengths = stats.note_length_distribution();
  EXPECT_DOUBLE_EQ(lengths[0], 2.0 / 8);
  EXPECT_DOUBLE_EQ(lengths[1], 6.0 / 8);
  EXPECT_DOUBLE_EQ(stats.mean_note_length(), 14.0 / 8);
  // Transitions: 0->1 and 4->5 repeat the frame, 5 others do not.
  EXPECT_DOUBLE_EQ(stats.frame_repetition(), 2.0 / 7);
  // 4-frame windows at 0..4: the one at 4 repeats the one at 0.
  EXPECT_EQ(stats.patterns, 5);
  EXPECT_DOUBLE_EQ(stats.pattern_repetition(), 1.0 / 5);
}

// The melodic line is the highest note starting in each frame: in two_phrases() G (frame 0), D
// (frame 3), G (frame 4), D (frame 7), so the steps are -5, +5, -5; a held note starts nothing,
// and a leap of more than an octave goes to the last bin.
TEST(MusicStats, IntervalsFollowTheHighestStartingNote) {
  MusicStats stats;
  stats.add(two_phrases());
  const auto intervals = stats.interval_distribution();
  const auto bin = [](int semitones) { return static_cast<size_t>(semitones + kMaxInterval + 1); };
  EXPECT_DOUBLE_EQ(intervals[bin(-5)], 2.0 / 3);
  EXPECT_DOUBLE_EQ(intervals[bin(5)], 1.0 / 3);
  EXPECT_EQ(stats.interval_counts[bin(0)], 0);

  PianoRoll wide;
  wide.pitches = 30;
  wide.lowest_pitch = 48;
  wide.frames = 4;
  wide.cells.assign(4 * 30, 0);
  wide.at(0, 0) = 1;   // 48
  wide.at(1, 0) = 1;   // 48 held: no new start
  wide.at(2, 29) = 1;  // 77: 29 semitones up, beyond the octave
  wide.at(3, 27) = 1;  // 75: 2 down
  MusicStats leaps;
  leaps.add(wide);
  EXPECT_EQ(leaps.interval_counts[bin(kMaxInterval + 1)], 1);
  EXPECT_EQ(leaps.interval_counts[bin(-2)], 1);
  EXPECT_EQ(leaps.interval_counts.size(), static_cast<size_t>(kIntervalBins));
  int64_t total = 0;
  for (const int64_t count : leaps.interval_counts)
    total += count;
  EXPECT_EQ(total, 2);
  EXPECT_DOUBLE_EQ(music_distances(stats, stats).interval_kl, 0.0);
  EXPECT_GT(music_distances(leaps, stats).interval_kl, 0.0);
}

TEST(MusicStats, PiecesPoolTheirCounts) {
  // Three silent frames: 2 repeated transitions, no window (too short), no note.
  const PianoRoll silence = octave_roll({{}, {}, {}});
  const std::vector<PianoRoll> pieces = {two_phrases(), silence};
  const MusicStats stats = music_stats(pieces);
  EXPECT_EQ(stats.pieces, 2);
  EXPECT_EQ(stats.frames, 11);
  EXPECT_DOUBLE_EQ(stats.empty_frame_ratio(), 5.0 / 11);
  EXPECT_DOUBLE_EQ(stats.frame_repetition(), 4.0 / 9);
  EXPECT_DOUBLE_EQ(stats.pattern_repetition(), 1.0 / 5);
  EXPECT_EQ(stats.notes, 8);

  // A dataset split gives the same as its sequences as pieces.
  SplitRolls split;
  split.pitches = 12;
  split.append(two_phrases(), "a");
  split.append(silence, "b");
  const MusicStats from_split = music_stats(split, 60);
  EXPECT_EQ(music_stats_json(from_split), music_stats_json(stats));
}

TEST(MusicStats, SilenceHasNoRangeNoScaleAndNoNotes) {
  MusicStats stats;
  stats.add(octave_roll({{}, {}, {}, {}, {}}));
  EXPECT_EQ(stats.lowest_pitch, -1);
  EXPECT_EQ(stats.pitch_range(), 0);
  EXPECT_EQ(stats.best_scale().name, "");
  EXPECT_EQ(stats.notes, 0);
  EXPECT_DOUBLE_EQ(stats.mean_note_length(), 0.0);
  EXPECT_DOUBLE_EQ(stats.empty_frame_ratio(), 1.0);
  // The only window is silent, so it is not counted.
  EXPECT_EQ(stats.patterns, 0);
}

TEST(MusicStats, ScaleConsistencyFindsTheBestMajorOrHarmonicMinorScale) {
  // C D E F G A B and one F#: C major and G major both hold 7 of 8 cells; C major comes first.
  MusicStats tie;
  tie.add(octave_roll({{60}, {62}, {64}, {65}, {67}, {69}, {71}, {66}}));
  EXPECT_EQ(tie.best_scale().name, "C major");
  EXPECT_DOUBLE_EQ(tie.best_scale().fraction, 7.0 / 8);
  EXPECT_DOUBLE_EQ(tie.scale_consistency(), 7.0 / 8);
  // A piece of one F#: pooled, G major holds 8 of 9 cells; each piece in its own key holds
  // 7 of 8 and 1 of 1.
  tie.add(octave_roll({{66}}));
  EXPECT_EQ(tie.best_scale().name, "G major");
  EXPECT_DOUBLE_EQ(tie.best_scale().fraction, 8.0 / 9);
  EXPECT_DOUBLE_EQ(tie.scale_consistency(), 8.0 / 9);
  // A B C D E F G#: A harmonic minor holds everything; C major misses the G#.
  MusicStats minor;
  minor.add(octave_roll({{69}, {71}, {60}, {62}, {64}, {65}, {68}}));
  EXPECT_EQ(minor.best_scale().name, "A minor");
  EXPECT_DOUBLE_EQ(minor.best_scale().fraction, 1.0);
}

TEST(MusicStats, ScaleConsistencyJudgesEachPieceInItsOwnKey) {
  // A C major scale and an F# major scale (F# G# A# B C# D# E#): each piece is fully in its
  // key, but no one scale holds both (C major holds 7 + 2 of the 14 cells: B and E#=F).
  MusicStats two_keys;
  two_keys.add(octave_roll({{60}, {62}, {64}, {65}, {67}, {69}, {71}}));
  two_keys.add(octave_roll({{66}, {68}, {70}, {71}, {61}, {63}, {65}}));
  EXPECT_DOUBLE_EQ(two_keys.scale_consistency(), 1.0);
  EXPECT_DOUBLE_EQ(two_keys.best_scale().fraction, 9.0 / 14);
  EXPECT_EQ(two_keys.best_scale().name, "C major");
}

TEST(MusicStats, LongNotesAndDenseFramesGoToTheLastBins) {
  PianoRoll roll;
  roll.frames = 20;
  roll.cells.assign(static_cast<size_t>(20 * 88), 0);
  for (int64_t t = 0; t < 20; ++t)
    roll.at(t, 39) = 1;  // C4 held for 20 frames
  for (int p = 50; p < 70; ++p)
    roll.at(5, p) = 1;  // frame 5: 21 keys with the C4
  MusicStats stats;
  stats.add(roll);
  EXPECT_EQ(stats.note_length_counts[kNoteLengthBins - 1], 1);
  EXPECT_EQ(stats.note_length_counts[0], 20);
  EXPECT_DOUBLE_EQ(stats.mean_note_length(), 40.0 / 21);
  EXPECT_EQ(stats.polyphony_counts[kPolyphonyBins - 1], 1);
  EXPECT_EQ(stats.polyphony_counts[1], 19);
}

TEST(MusicStats, KlDistancesUseAddOneSmoothing) {
  MusicStats on_c, on_g;
  on_c.add(octave_roll({{60}, {60}, {60}, {60}, {60}, {60}, {60}, {60}}));
  on_g.add(octave_roll({{67}, {67}, {67}, {67}, {67}, {67}, {67}, {67}}));
  EXPECT_DOUBLE_EQ(music_distances(on_c, on_c).pitch_class_kl, 0.0);
  EXPECT_DOUBLE_EQ(music_distances(on_c, on_c).polyphony_kl, 0.0);
  EXPECT_DOUBLE_EQ(music_distances(on_c, on_c).note_length_kl, 0.0);
  // p(C) = q(G) = 9/20, p(G) = q(C) = 1/20, other classes equal: KL = (8/20) ln 9.
  const MusicDistances moved = music_distances(on_g, on_c);
  EXPECT_NEAR(moved.pitch_class_kl, 0.4 * std::log(9.0), 1e-12);
  // Same polyphony (one key every frame) and one 8-frame note each: those distances are 0.
  EXPECT_DOUBLE_EQ(moved.polyphony_kl, 0.0);
  EXPECT_DOUBLE_EQ(moved.note_length_kl, 0.0);
  // Generated music that is silent: polyphony all in bin 0, reference all in bin 1.
  MusicStats silent;
  silent.add(octave_roll({{}, {}, {}, {}, {}, {}, {}, {}}));
  const double p = 9.0 / 24, q = 1.0 / 24;
  EXPECT_NEAR(music_distances(silent, on_c).polyphony_kl, (p - q) * std::log(p / q), 1e-12);
}

TEST(MusicStats, JsonAndTableCarryTheStatistics) {
  MusicStats stats;
  stats.add(two_phrases());
  const auto json = music_stats_json(stats);
  EXPECT_DOUBLE_EQ(json["pitch_class_histogram"]["C"].get<double>(), 4.0 / 14);
  EXPECT_EQ(json["best_scale"], "C major");
  EXPECT_DOUBLE_EQ(json["scale_consistency"].get<double>(), 1.0);
  EXPECT_EQ(json["counts"]["repeated_patterns"], 1);
  EXPECT_DOUBLE_EQ(json["frame_repetition"].get<double>(), 2.0 / 7);
  const std::string table = music_stats_table("test", stats, {{"generated", stats}});
  EXPECT_NE(table.find("scale consistency"), std::string::npos) << table;
  EXPECT_NE(table.find("C major (1.000)"), std::string::npos) << table;
  EXPECT_NE(table.find("C4..G4 (7)"), std::string::npos) << table;
  EXPECT_NE(table.find("KL pitch classes (test || .)"), std::string::npos) << table;
  EXPECT_NE(table.find("KL intervals (test || .)"), std::string::npos) << table;
  EXPECT_EQ(json["counts"]["intervals"].size(), static_cast<size_t>(kIntervalBins));
  EXPECT_NE(table.find("0.0000"), std::string::npos) << table;
}

TEST(MusicStats, MalformedRollsAreErrors) {
  MusicStats stats;
  PianoRoll roll = two_phrases();
  roll.cells.pop_back();
  EXPECT_THROW(stats.add(roll), Error);
  PianoRoll high = two_phrases();
  high.lowest_pitch = 120;
  EXPECT_THROW(stats.add(high), Error);
}

}  // namespace
}  // namespace cadenza
