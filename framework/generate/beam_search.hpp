// Beam search over the events of a token model (cadenza generate --beam W): the W most probable
// continuations of a primer, each scored by the log-probability of its generated events under the
// model, instead of drawing the events at random.
//
// Step t keeps the W best hypotheses of t events: every kept hypothesis is extended by every event
// class, each candidate is scored by its summed log-probability (log-softmax of the model's
// logits, in double), and the W best candidates go on; ties go to the hypothesis kept earlier,
// then to the lower class id, so the result depends on nothing but the model and the primer.
// The first step extends the primer alone. Every hypothesis has the same length, so the reported
// score, the mean log-probability per generated event (length-normalised), ranks them as the sum
// does.
//
// Each step reads every kept hypothesis from its first frame through the model's step-wise
// interface, segment by segment as sampling does (begin_generation at the start of the step's
// generation segment, continue_generation through it; models/model.hpp), so every event is scored
// with the logits sampling would draw it from, and the models need no state reordering. A search
// of N steps costs about N^2 / 2 frames per beam of model time, a second or two for 256 steps of
// the melody quickstart's lm.
#pragma once

#include <cstdint>
#include <vector>

#include "data/piano_roll.hpp"
#include "generate/generator.hpp"
#include "models/model.hpp"

namespace cadenza {

struct BeamHypothesis {
  // The primer's frames, then the generated one-hot events; for an attention model, the
  // attention of the step that predicted each generated event (so --beam writes attention maps).
  GeneratedSample sample;
  double log_probability = 0.0;  // summed over the generated events, nats
  double score = 0.0;            // log_probability / generated events
};

// primer [Tp >= 1 frames, V = the model's classes] -> the `keep` best of the `beam` hypotheses
// of `frames` events after the primer, best first. Throws Error unless the model's output is
// categorical, 1 <= keep <= beam and frames >= 1.
std::vector<BeamHypothesis> beam_search(SequenceModel& model, const PianoRoll& primer,
                                        int64_t frames, int beam, int keep);

}  // namespace cadenza
