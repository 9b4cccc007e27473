// Step-wise generation for seq2seq models, with the segments of evaluate() continued past the
// history: a segment starts at frame n (n = frames so far), the encoder reads frames
// [n - S, n) with S = min(Tc, n), the bridge gives the decoder its initial state, and the decoder
// takes Tt steps, each reading the latest frame (the previous step's choice). After Tt steps the
// window slides: the next segment starts at n + Tt and the encoder reads again. Started from a
// one-frame history, the segments and their logits are exactly those of evaluate().
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "core/error.hpp"
#include "models/frames.hpp"
#include "models/seq2seq.hpp"

namespace cadenza {
namespace {

// target [dims] = the first numel(dims) floats at `source`.
void copy_into(const float* source, std::vector<int64_t> dims, Tensor& target) {
  target.reset(std::move(dims));
  std::memcpy(target.data(), source, static_cast<size_t>(target.numel()) * sizeof(float));
}

}  // namespace

// history [T, B, P] -> logits [B, P] of frame T.
void Seq2SeqModel::begin_generation(const Tensor& history, Tensor& logits) {
  if (history.rank() != 3 || history.dim(0) < 1 || history.dim(1) < 1 ||
      history.dim(2) != pitches_) {
    throw Error(
        fmt::format("Seq2SeqModel::begin_generation: history has shape [{}], expected "
                    "[T, B, {}] with T, B >= 1",
                    fmt::join(history.dims(), ", "), pitches_));
  }
  set_training(false);
  decoder_->begin_steps();
  Generation& g = generation_;
  const int64_t steps = history.dim(0);
  const int64_t row = history.dim(1) * pitches_;
  const int64_t kept = std::min<int64_t>(steps, context_frames_);
  g.batch = history.dim(1);
  g.frames = steps;
  g.recent.assign(history.data() + (steps - kept) * row, history.data() + steps * row);
  g.position = target_frames_;
  generation_step(logits);
}

// frame [B, P] -> logits [B, P] of the frame after it.
void Seq2SeqModel::continue_generation(const Tensor& frame, Tensor& logits) {
  Generation& g = generation_;
  if (g.batch == 0) {
    throw Error("Seq2SeqModel::continue_generation: call begin_generation first");
  }
  if (frame.rank() != 2 || frame.dim(0) != g.batch || frame.dim(1) != pitches_) {
    throw Error(
        fmt::format("Seq2SeqModel::continue_generation: frame has shape [{}], expected "
                    "[{}, {}]",
                    fmt::join(frame.dims(), ", "), g.batch, pitches_));
  }
  const int64_t row = g.batch * pitches_;
  g.recent.insert(g.recent.end(), frame.data(), frame.data() + row);
  ++g.frames;
  // Keep at most 2 Tc frames, dropping the oldest Tc at once (amortised O(1) per frame).
  const int64_t held = static_cast<int64_t>(g.recent.size()) / row;
  if (held >= 2 * int64_t{context_frames_}) {
    g.recent.erase(g.recent.begin(), g.recent.begin() + (held - context_frames_) * row);
  }
  generation_step(logits);
}

// generation_.recent -> generation_.h, c [L, B, Hd] (the decoder's initial state) and, with
// attention, generation_.keys over the encoder states [S, B, Hk].
void Seq2SeqModel::start_generation_segment() {
  Generation& g = generation_;
  const int64_t row = g.batch * pitches_;
  const int64_t held = static_cast<int64_t>(g.recent.size()) / row;
  const int64_t context = std::min<int64_t>(context_frames_, g.frames);
  copy_into(g.recent.data() + (held - context) * row, {context, g.batch, pitches_}, g.encoder_in);
  const Tensor none;
  encoder_->forward(embedding_.forward(g.encoder_in, g.encoder_embedded), none, none, g.encoder_out,
                    g.encoder_h, g.encoder_c, g.encoder_tape);
  bridge_forward(g.encoder_h, g.encoder_c);
  g.h = decoder_h0_;
  g.c = decoder_c0_;
  if (attention_) {
    g.key_mask.reset({g.batch, context});
    g.key_mask.fill(1.0f);
    attention_->prepare_keys(g.encoder_out, g.key_mask, g.keys);
  }
  g.attention.first_frame = g.frames - context;
  g.position = 0;
}

// One decoder step reading the latest frame [B, P] -> logits [B, P] of the next frame.
void Seq2SeqModel::generation_step(Tensor& logits) {
  Generation& g = generation_;
  if (g.position == target_frames_) start_generation_segment();
  const int64_t row = g.batch * pitches_;
  const float* latest = g.recent.data() + g.recent.size() - static_cast<size_t>(row);
  const Tensor* features = &g.output;
  Tensor weights;
  switch (style_) {
    case Style::none:
      copy_into(latest, {g.batch, pitches_}, g.input);
      decoder_->step_forward(embedding_.forward(g.input, g.embedded), g.h, g.c, g.output, g.next_h,
                             g.next_c, g.decoder_tape);
      break;
    case Style::luong:
      copy_into(latest, {g.batch, pitches_}, g.input);
      decoder_->step_forward(embedding_.forward(g.input, g.embedded), g.h, g.c, g.output, g.next_h,
                             g.next_c, g.decoder_tape);
      copy_into(g.output.data(), {1, g.batch, decoder_hidden_}, g.query);
      attention_->attend(g.query, g.keys, g.context, weights, g.attention_tape);
      combine_->forward(g.context, g.query, g.combined, g.combine_tape);
      features = &g.combined;
      break;
    case Style::bahdanau: {
      // The previous top decoder state attends; [x_t; c_t] enters the decoder cell.
      copy_rows(g.h, layers_ - 1, layers_, g.query);
      attention_->attend(g.query, g.keys, g.context, weights, g.attention_tape);
      const int64_t key_size = g.context.dim(2);
      const int64_t width = embedding_.width();
      copy_into(latest, {g.batch, pitches_}, g.input);
      const Tensor& embedded = embedding_.forward(g.input, g.embedded);
      g.joined.reset({g.batch, width + key_size});
      for (int64_t b = 0; b < g.batch; ++b) {
        float* input_row = g.joined.data() + b * (width + key_size);
        std::memcpy(input_row, embedded.data() + b * width,
                    static_cast<size_t>(width) * sizeof(float));
        std::memcpy(input_row + width, g.context.data() + b * key_size,
                    static_cast<size_t>(key_size) * sizeof(float));
      }
      decoder_->step_forward(g.joined, g.h, g.c, g.output, g.next_h, g.next_c, g.decoder_tape);
      copy_into(g.output.data(), {1, g.batch, decoder_hidden_}, g.query);
      combine_->forward(g.context, g.query, g.combined, g.combine_tape);
      features = &g.combined;
      break;
    }
  }
  std::swap(g.h, g.next_h);
  std::swap(g.c, g.next_c);
  output_.forward(*features, g.logits);
  copy_into(g.logits.data(), {g.batch, pitches_}, logits);
  if (!weights.empty()) copy_into(weights.data(), {g.batch, weights.dim(2)}, g.attention.weights);
  ++g.position;
}

}  // namespace cadenza
