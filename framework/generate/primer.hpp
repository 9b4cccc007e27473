// The music a generated piece continues, from the --primer value:
//   (empty)                 one silent frame;
//   dataset:SPLIT:INDEX     sequence INDEX (from 0) of split train, valid or test of the run's
//                           dataset, e.g. dataset:test:0;
//   anything else           a MIDI file, quantised to the dataset's frames per quarter note and
//                           its pitch columns (notes outside them are dropped, with a count).
// max_frames > 0 keeps only the first max_frames frames.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "data/dataset.hpp"
#include "data/piano_roll.hpp"

namespace cadenza {

struct Primer {
  PianoRoll roll;             // at least one frame, the dataset's pitch columns
  std::string description;    // e.g. "test sequence 3 of JSB_Chorales (first 16 frames)"
  int64_t dropped_notes = 0;  // MIDI notes outside the pitch columns
};

// Throws UsageError naming --primer and the value for a malformed spec, an unknown split, an
// index out of range or a missing file (with what is valid), and InputError for a MIDI file that
// does not parse or has no note within the pitch columns.
Primer load_primer(std::string_view spec, const Dataset& dataset, int frames_per_quarter,
                   int64_t max_frames);

}  // namespace cadenza
