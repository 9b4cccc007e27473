#include "models/lookback_inputs.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstring>

#include "core/error.hpp"
#include "data/melody.hpp"

namespace cadenza {

int lookback_counter_bits(int bar_steps) {
  return std::bit_width(static_cast<unsigned>(2 * bar_steps - 1));
}

int64_t lookback_width(int bar_steps, int classes) {
  return bar_steps > 0 ? 3 * int64_t{classes} + lookback_counter_bits(bar_steps) + 2 : classes;
}
LookbackInputs::LookbackInputs(int bar_steps, int classes, FrameOutput output)
    : bar_steps_(bar_steps), classes_(classes), width_(classes) {
  if (bar_steps <= 0) return;
  if (output != FrameOutput::kCategorical) {
    throw ConfigError(fmt::format(
        "model.lookback_bar_steps = {}: the lookback inputs are of note events and need a token "
        "dataset (cadenza data import --melody); set it to 0 for piano rolls",
        bar_steps));
  }
  counter_bits_ = lookback_counter_bits(bar_steps);
  width_ = lookback_width(bar_steps, classes);
}

void LookbackInputs::write_row(const std::vector<int32_t>& events, int64_t t, int64_t first,
                               float* row) const {
  std::fill(row, row + width_, 0.0f);
  const int32_t current = events[static_cast<size_t>(t)];
  if (current < 0) return;
  row[current] = 1.0f;
  const int64_t distances[2] = {bar_steps_, 2 * int64_t{bar_steps_}};
  for (int i = 0; i < 2; ++i) {
    const int64_t back = t - distances[i] + 1;
    const int32_t event = back >= 0 ? events[static_cast<size_t>(back)] : kNoEvent;
    if (event >= 0) row[(1 + i) * classes_ + event] = 1.0f;
  }
  float* counter = row + 3 * classes_;
  const int64_t position = first + t + 1;
  for (int bit = 0; bit < counter_bits_; ++bit)
    counter[bit] = (position >> bit) & 1 ? 1.0f : -1.0f;
  float* repeats = counter + counter_bits_;
  for (int i = 0; i < 2; ++i) {
    const int64_t back = t - distances[i];
    repeats[i] = back >= 0 && events[static_cast<size_t>(back)] == current ? 1.0f : 0.0f;
  }
}

const Tensor& LookbackInputs::forward(const Tensor& frames, std::span<const int64_t> first_steps,
                                      Tensor& features) {
  if (!active()) return frames;
  if (frames.rank() != 3 || frames.dim(2) != classes_ ||
      first_steps.size() != static_cast<size_t>(frames.dim(1))) {
    throw Error(fmt::format(
        "LookbackInputs::forward: frames [{}] with {} first steps, expected [T, B, {}] and B",
        fmt::join(frames.dims(), ", "), first_steps.size(), classes_));
  }
  const int64_t steps = frames.dim(0), batch = frames.dim(1);
  features.reset({steps, batch, width_});
  std::vector<int32_t> events(static_cast<size_t>(steps));
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t t = 0; t < steps; ++t)
      events[static_cast<size_t>(t)] =
          one_hot_class(frames.data() + (t * batch + b) * classes_, classes_);
    for (int64_t t = 0; t < steps; ++t)
      write_row(events, t, first_steps[static_cast<size_t>(b)],
                features.data() + (t * batch + b) * width_);
  }
  return features;
}

const Tensor& LookbackInputs::begin_streams(const Tensor& history, Tensor& features) {
  if (!active()) return history;
  if (history.rank() != 3) {
    throw Error(fmt::format("LookbackInputs::begin_streams: history [{}], expected [T, B, {}]",
                            fmt::join(history.dims(), ", "), classes_));
  }
  const int64_t steps = history.dim(0), batch = history.dim(1);
  streams_.assign(static_cast<size_t>(batch), {});
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t t = 0; t < steps; ++t)
      streams_[static_cast<size_t>(b)].push_back(
          one_hot_class(history.data() + (t * batch + b) * classes_, classes_));
  }
  const std::vector<int64_t> starts(static_cast<size_t>(batch), 0);
  return forward(history, starts, features);
}

const Tensor& LookbackInputs::append(const Tensor& frame, Tensor& features) {
  if (!active()) return frame;
  const int64_t batch = static_cast<int64_t>(streams_.size());
  if (frame.rank() != 2 || frame.dim(0) != batch || frame.dim(1) != classes_) {
    throw Error(fmt::format("LookbackInputs::append: frame [{}], expected [{}, {}] (begin first)",
                            fmt::join(frame.dims(), ", "), batch, classes_));
  }
  features.reset({batch, width_});
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<int32_t>& events = streams_[static_cast<size_t>(b)];
    events.push_back(one_hot_class(frame.data() + b * classes_, classes_));
    write_row(events, static_cast<int64_t>(events.size()) - 1, 0, features.data() + b * width_);
  }
  return features;
}

}  // namespace cadenza
