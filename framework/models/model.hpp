// The models cadenza trains, each with any cell of model.cell (LSTM, GRU, plain RNN), behind one
// interface so that the trainer, evaluation and generation treat every variant alike:
//   lm       a decoder-only recurrent stack predicting frame t+1 from frames <= t (the published
//            baselines);
//   seq2seq  an encoder reads a context segment, its final states (through a bridge) initialise
//            a decoder that predicts the target segment; optionally attention over the encoder
//            states, Luong (after the decoder, batched over time) or Bahdanau (context fed into
//            the decoder input, step by step).
// Every model outputs logits over the P columns of a frame: for a piano roll the keys, scored with
// sigmoid + Bernoulli NLL; for melody tokens (one-hot frames) the classes, scored with softmax +
// categorical NLL (FrameOutput, nn/losses.hpp).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "config/experiment_config.hpp"
#include "core/tensor.hpp"
#include "data/dataset.hpp"
#include "data/loader.hpp"
#include "nn/losses.hpp"
#include "nn/parameter.hpp"

namespace cadenza {

// The attention behind one generation step: weights [B, S] over the encoder states of frames
// [first_frame, first_frame + S) of the streams being generated.
struct GenerationAttention {
  Tensor weights;
  int64_t first_frame = 0;
};

// Receives the scored outputs of a batch: logits, targets [T, B, P] and mask [T, B].
using ScoreSink =
    std::function<void(const Tensor& logits, const Tensor& targets, const Tensor& mask)>;

class SequenceModel {
 public:
  virtual ~SequenceModel() = default;

  // Every parameter under its hierarchical name, e.g. "decoder/lstm/layer0/W_ih".
  virtual std::vector<NamedParameter> parameters() = 0;
  virtual void init(uint64_t seed) = 0;
  // How the logits of a frame are scored and sampled.
  virtual FrameOutput frame_output() const = 0;
  // Dropout is active only while training.
  virtual void set_training(bool training) = 0;
  // The random draws of one training step (dropout masks, scheduled-sampling choices) come from
  // (seed, step); a scheduled-sampling ramp follows `step` too.
  virtual void set_training_step(uint64_t seed, uint64_t step) = 0;

  // The frames of `batch` the training loss scores (lm: frames 2..T of each sample; seq2seq: the
  // target frames).
  virtual int64_t scored_frames(const Batch& batch) const = 0;

  // One training batch from the loader: forward, masked sigmoid BCE, backward. The loss is the
  // mean over `loss_frames` of the nats summed over keys, so gradients are scaled by
  // 1 / loss_frames: scored_frames(batch) for the batch's own mean, the whole batch's count for a
  // share of it (train/data_parallel.hpp). They accumulate into the parameters' grads (the caller
  // zeroes them). Returns the summed nll and the number of scored frames; `sink` sees the
  // outputs. With scheduled sampling (model.scheduled_sampling), a teacher-forced pass first
  // picks the inputs.
  virtual LossValue train_batch(const Batch& batch, const ScoreSink& sink, int64_t loss_frames) = 0;

  // The full-sequence protocol (docs/metrics.md): scores frames 2..T of every sequence of
  // `split`, each predicted from the frames before it, batch_size sequences (or segments) at a
  // time. No gradients.
  virtual void evaluate(const SplitRolls& split, int batch_size, const ScoreSink& sink) = 0;

  // Step-wise generation of B streams at once (dropout switched off, no gradients):
  //   begin_generation: history [T, B, P], T >= 1 -> logits [B, P] of frame T of each stream;
  //   continue_generation: frame [B, P] appended to every stream -> logits [B, P] of the next.
  // The logits equal those evaluate() gives for the same frames (models/*_generate.cpp).
  virtual void begin_generation(const Tensor& history, Tensor& logits) = 0;
  virtual void continue_generation(const Tensor& frame, Tensor& logits) = 0;
  // The attention behind the latest generation logits; empty weights without attention.
  virtual GenerationAttention generation_attention() const { return {}; }
  // Frames per generation segment: begin_generation starts one at the end of its history, and
  // continue_generation steps through it, so begin_generation on a longer history gives the same
  // logits as continuing only at a segment's start (seq2seq: data.target_frames). 0: no segments,
  // any history may begin (the lm).
  virtual int64_t generation_segment_frames() const { return 0; }
};

// Builds the model a config describes for frames of `pitches` columns scored as `output`; a
// seq2seq model reads
// `context_frames` and predicts `target_frames` per segment (data.context_frames,
// data.target_frames). Throws ConfigError for combinations the layers cannot do (e.g. dot
// attention between states of different widths).
std::unique_ptr<SequenceModel> build_model(const config::ModelConfig& config, int pitches,
                                           int context_frames, int target_frames,
                                           FrameOutput output = FrameOutput::kBernoulli);

// The output of a dataset's frames: kCategorical for a token dataset, kBernoulli for piano rolls.
FrameOutput frame_output(const DatasetInfo& info);

}  // namespace cadenza
