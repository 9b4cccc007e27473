#include "models/lm.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "core/error.hpp"
#include "models/frames.hpp"
#include "models/recurrent_config.hpp"
#include "nn/precision.hpp"

namespace cadenza {
namespace {

// Time steps x batch of one evaluation chunk (score()): [512, 32, H] for a batch of 32.
constexpr int64_t kEvalChunkRows = 16384;

}  // namespace

LanguageModel::LanguageModel(const config::ModelConfig& config, int pitches, FrameOutput output)
    : pitches_(pitches),
      lookback_(config.lookback_bar_steps, pitches, output),
      embedding_(config.embedding_size, static_cast<int>(lookback_.width()),
                 parse_precision(config.precision)),
      recurrent_(build_recurrent(config, config.cell, static_cast<int>(embedding_.width()),
                                 config.hidden_size, false, 1)),
      recurrent_prefix_(recurrent_prefix("decoder", config.cell)),
      output_(config.hidden_size, pitches, true, parse_precision(config.precision)),
      sampling_(config.scheduled_sampling, output),
      loss_(output) {}

std::vector<NamedParameter> LanguageModel::parameters() {
  auto named = with_prefix("embedding", embedding_.parameters());
  for (auto& p : with_prefix(recurrent_prefix_, recurrent_->parameters()))
    named.push_back(p);
  for (auto& p : with_prefix("decoder/output", output_.parameters()))
    named.push_back(p);
  return named;
}

void LanguageModel::init(uint64_t seed) {
  recurrent_->init(seed);
  output_.init(seed, 2);
  embedding_.init(seed);
}

bool LanguageModel::prepare(const Tensor& frames, const Tensor& mask) {
  const int64_t steps = frames.dim(0);
  if (steps < 2) return false;
  copy_rows(frames, 0, steps - 1, inputs_);
  copy_rows(frames, 1, steps, targets_);
  copy_rows(mask, 1, steps, target_mask_);
  return true;
}

LossValue LanguageModel::run(bool train, const ScoreSink& sink, float grad_scale) {
  const Tensor none;
  const Tensor& features = lookback_.forward(inputs_, first_steps_, features_);
  const Tensor& embedded = embedding_.forward(features, embedded_);
  recurrent_->forward(embedded, none, none, hidden_, final_h_, final_c_, tape_);
  output_.forward(hidden_, logits_);
  const LossValue loss = loss_.compute(logits_, targets_, target_mask_, diff_logits_, grad_scale);
  if (sink) sink(logits_, targets_, target_mask_);
  if (train) {
    output_.backward(hidden_, diff_logits_, diff_hidden_);
    recurrent_->backward(tape_, diff_hidden_, none, none, diff_inputs_, diff_h0_, diff_c0_);
    embedding_.backward(features, diff_inputs_);
  }
  return loss;
}

void LanguageModel::score(const ScoreSink& sink) {
  const Tensor& features = lookback_.forward(inputs_, first_steps_, features_);
  const int64_t steps = features.dim(0), batch = features.dim(1);
  const int64_t chunk_steps = std::max<int64_t>(1, kEvalChunkRows / batch);
  logits_.reset({steps, batch, pitches_});
  chunk_h_ = Tensor();
  chunk_c_ = Tensor();
  for (int64_t t0 = 0; t0 < steps; t0 += chunk_steps) {
    const int64_t t1 = std::min(steps, t0 + chunk_steps);
    copy_rows(features, t0, t1, chunk_);
    recurrent_->forward(embedding_.forward(chunk_, embedded_), chunk_h_, chunk_c_, hidden_,
                        final_h_, final_c_, tape_);
    std::swap(chunk_h_, final_h_);
    std::swap(chunk_c_, final_c_);
    output_.forward(hidden_, chunk_logits_);
    std::memcpy(logits_.data() + t0 * batch * pitches_, chunk_logits_.data(),
                static_cast<size_t>(chunk_logits_.numel()) * sizeof(float));
  }
  if (sink) sink(logits_, targets_, target_mask_);
}

int64_t LanguageModel::scored_frames(const Batch& batch) const {
  return count_scored(batch.inputs, batch.batch_size, 1);
}

LossValue LanguageModel::train_batch(const Batch& batch, const ScoreSink& sink,
                                     int64_t loss_frames) {
  copy_frames(batch.inputs, batch.batch_size, batch.pitches, 0, batch.inputs.steps, frames_);
  copy_mask(batch.inputs, batch.batch_size, 0, batch.inputs.steps, mask_);
  if (!prepare(frames_, mask_)) return {};
  first_steps_.clear();
  for (const SampleOrigin& sample : batch.samples)
    first_steps_.push_back(sample.start_frame);
  if (lookback_.active() && first_steps_.size() != static_cast<size_t>(batch.batch_size)) {
    throw Error(fmt::format(
        "LanguageModel::train_batch: the lookback inputs need every sample's origin; the batch "
        "has {} for {} samples",
        first_steps_.size(), batch.batch_size));
  }
  if (sampling_.active()) {
    run(false, {}, 0.0f);
    sampling_.feed_back(logits_, inputs_);
  }
  return run(true, sink, mean_scale(loss_frames));
}

void LanguageModel::evaluate(const SplitRolls& split, int batch_size, const ScoreSink& sink) {
  for (int64_t first = 0; first < split.sequences(); first += batch_size) {
    const int64_t count = std::min<int64_t>(batch_size, split.sequences() - first);
    int64_t longest = 0;
    for (int64_t s = first; s < first + count; ++s)
      longest = std::max(longest, split.length(s));
    frames_.reset({longest, count, pitches_});
    mask_.reset({longest, count});
    for (int64_t b = 0; b < count; ++b)
      gather_sequence(split, first + b, 0, longest, b, frames_, mask_);
    first_steps_.assign(static_cast<size_t>(count), 0);
    if (prepare(frames_, mask_)) score(sink);
  }
}

}  // namespace cadenza
