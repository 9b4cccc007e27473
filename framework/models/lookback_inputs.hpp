// Magenta's lookback inputs (melody_rnn's lookback_rnn: note_seq's
// LookbackEventSequenceEncoderDecoder) for a token lm. With model.lookback_bar_steps S > 0 the
// input of step t of a stream, the one-hot event e_t over V classes, becomes F = 3V + C + 2 values:
//   [onehot(e_t) | onehot(e_{t-S+1}) | onehot(e_{t-2S+1}) | bits of n | two repeat flags]
// - e_{t-S+1} and e_{t-2S+1}: the events one and two bars before the step being predicted (t+1),
//   what comes next if the melody repeats a bar; NO_EVENT when that step is before the stream;
// - bits of n: the C = bit_width(2S - 1) low bits of n = (the stream's first step in its piece)
//   + t + 1, the position of the predicted step, each +1 or -1 (Magenta: 5 bits for S = 16);
// - the repeat flags: 1 when the current event repeats the one a bar (two bars) back, 0 otherwise
//   or when that step is before the stream.
// A stream is what the model reads at once (a training sample, a whole evaluated sequence, a
// generated stream from its primer): events before it are not read, as a model never reads them.
// An all-zero row (padding) gives an all-zero input row. There are no parameters.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/tensor.hpp"
#include "nn/losses.hpp"

namespace cadenza {

// C = bit_width(2S - 1) counter bits for S steps per bar (S > 0).
int lookback_counter_bits(int bar_steps);
// The width of a lookback input row, 3V + C + 2; V itself when bar_steps is 0 (off).
int64_t lookback_width(int bar_steps, int classes);

class LookbackInputs {
 public:
  // bar_steps 0: off (width() = classes). ConfigError naming model.lookback_bar_steps unless the
  // output is categorical (the features are of events).
  LookbackInputs(int bar_steps, int classes, FrameOutput output);

  bool active() const { return bar_steps_ > 0; }
  // F, or the classes when off.
  int64_t width() const { return width_; }
  int counter_bits() const { return counter_bits_; }

  // frames [T, B, V] (one-hot rows; all-zero rows are padding), first_steps [B]: the step of
  // frame 0 of each stream in its piece -> [T, B, F]: `features`, or `frames` itself when off.
  const Tensor& forward(const Tensor& frames, std::span<const int64_t> first_steps,
                        Tensor& features);

  // Step-wise generation. begin_streams: history [T, B, V] of B streams starting at step 0 ->
  // its features [T, B, F] (or the history when off), its events remembered; append: frame
  // [B, V], the next step of every stream -> features [B, F] (or the frame when off).
  const Tensor& begin_streams(const Tensor& history, Tensor& features);
  const Tensor& append(const Tensor& frame, Tensor& features);

 private:
  // Step t of a stream whose events 0..t are events[0..t] (-1 for padding), first step `first`
  // in its piece -> row [F].
  void write_row(const std::vector<int32_t>& events, int64_t t, int64_t first, float* row) const;

  int bar_steps_;
  int64_t classes_;
  int counter_bits_ = 0;
  int64_t width_;
  std::vector<std::vector<int32_t>> streams_;  // generation: every stream's events so far
};

}  // namespace cadenza
