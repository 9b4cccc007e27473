// Step-wise generation for the lm: the history runs through the stacked recurrent layer in one
// call (its final states seed the steps), then every appended frame is one T = 1 step of it.
#include <fmt/format.h>

#include <cstring>
#include <utility>

#include "core/error.hpp"
#include "models/frames.hpp"
#include "models/lm.hpp"

namespace cadenza {

// history [T, B, P] -> logits [B, P] of frame T; generation_.h, c [L, B, H] after frame T-1 (c
// for an LSTM only).
void LanguageModel::begin_generation(const Tensor& history, Tensor& logits) {
  if (history.rank() != 3 || history.dim(0) < 1 || history.dim(1) < 1 ||
      history.dim(2) != pitches_) {
    throw Error(
        fmt::format("LanguageModel::begin_generation: history has shape [{}], expected "
                    "[T, B, {}] with T, B >= 1",
                    fmt::join(history.dims(), ", "), pitches_));
  }
  set_training(false);
  const Tensor none;
  const Tensor& features = lookback_.begin_streams(history, features_);
  recurrent_->forward(embedding_.forward(features, embedded_), none, none, hidden_, generation_.h,
                      generation_.c, tape_);
  recurrent_->begin_steps();
  const int64_t steps = history.dim(0);
  copy_rows(hidden_, steps - 1, steps, generation_.output);
  Tensor last_logits;
  output_.forward(generation_.output, last_logits);
  logits.reset({history.dim(1), pitches_});
  std::memcpy(logits.data(), last_logits.data(),
              static_cast<size_t>(logits.numel()) * sizeof(float));
}

// frame [B, P] -> logits [B, P] of the frame after it.
void LanguageModel::continue_generation(const Tensor& frame, Tensor& logits) {
  if (generation_.h.empty()) {
    throw Error("LanguageModel::continue_generation: call begin_generation first");
  }
  const Tensor& features = lookback_.append(frame, generation_.features);
  recurrent_->step_forward(embedding_.forward(features, generation_.embedded), generation_.h,
                           generation_.c, generation_.output, generation_.next_h,
                           generation_.next_c, generation_.tape);
  std::swap(generation_.h, generation_.next_h);
  std::swap(generation_.c, generation_.next_c);
  output_.forward(generation_.output, logits);
}

}  // namespace cadenza
