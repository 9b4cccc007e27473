// lm: a stacked recurrent layer (model.cell: LSTM, GRU or plain RNN) over frames 1..T-1 and an
// affine output layer giving the logits of frames 2..T (next-frame prediction); with
// model.embedding_size the frames are embedded first (models/frame_embedding.hpp); with
// model.lookback_bar_steps token frames gain Magenta's lookback inputs before that
// (models/lookback_inputs.hpp). Parameters:
// "embedding/W" (with an embedding), "decoder/<cell>/layer{l}/..." (nn/recurrent_cells.hpp: lstm
// W_ih, W_hh, b; gru W_ih, W_hh, b_ih, b_hh; rnn W_ih, W_hh, b), "decoder/output/{W,b}".
#pragma once

#include <memory>
#include <string>

#include "models/frame_embedding.hpp"
#include "models/lookback_inputs.hpp"
#include "models/model.hpp"
#include "models/scheduled_sampling.hpp"
#include "nn/linear.hpp"
#include "nn/recurrent.hpp"

namespace cadenza {

class LanguageModel : public SequenceModel {
 public:
  // pitches: the columns of a frame (keys, or classes of a categorical output).
  LanguageModel(const config::ModelConfig& config, int pitches, FrameOutput output);

  std::vector<NamedParameter> parameters() override;
  void init(uint64_t seed) override;
  void set_training(bool training) override { recurrent_->set_training(training); }
  void set_training_step(uint64_t seed, uint64_t step) override {
    recurrent_->set_dropout_step(seed, step);
    sampling_.set_step(seed, step);
  }
  FrameOutput frame_output() const override { return loss_.output(); }
  int64_t scored_frames(const Batch& batch) const override;
  LossValue train_batch(const Batch& batch, const ScoreSink& sink, int64_t loss_frames) override;
  void evaluate(const SplitRolls& split, int batch_size, const ScoreSink& sink) override;
  // models/lm_generate.cpp: the history goes through the recurrent layer in one call, then one
  // step each.
  void begin_generation(const Tensor& history, Tensor& logits) override;
  void continue_generation(const Tensor& frame, Tensor& logits) override;

 private:
  // frames [T, B, P], mask [T, B] -> inputs_ (frames 0..T-2), targets_ (frames 1..T-1) and
  // target_mask_ [T-1, B(, P)]. Returns false when there is no frame to predict (T < 2).
  bool prepare(const Tensor& frames, const Tensor& mask);
  // inputs_ -> logits_ and the loss against targets_. With `train`, also backpropagates, the
  // gradients scaled by `grad_scale` (1 / the frames the loss is the mean over).
  LossValue run(bool train, const ScoreSink& sink, float grad_scale);
  // Evaluation: inputs_ -> logits_ as run() computes them, the recurrent layer run over chunks
  // of at most kEvalChunkRows / B steps, each from the states the last one ended in, so that a
  // batch of long sequences holds one chunk's activations instead of the whole batch's; then
  // `sink` on the whole batch's logits, as run() calls it.
  void score(const ScoreSink& sink);

  int pitches_;
  LookbackInputs lookback_;
  FrameEmbedding embedding_;
  std::unique_ptr<Recurrent> recurrent_;
  std::string recurrent_prefix_;
  Linear output_;
  ScheduledSampling sampling_;
  FrameLoss loss_;
  RecurrentTape tape_;
  std::vector<int64_t> first_steps_;  // [B]: the step of each stream's frame 0 in its piece
  Tensor inputs_, features_, embedded_, targets_, target_mask_, hidden_, final_h_, final_c_,
      logits_;
  Tensor diff_logits_, diff_hidden_, diff_inputs_, diff_h0_, diff_c0_, frames_, mask_;
  Tensor chunk_, chunk_logits_, chunk_h_, chunk_c_;  // score()'s chunk and the states it carries

  // Step-wise generation state: states h, c [L, B, H] (c for an LSTM only, and the next ones),
  // the frame's lookback features [B, F] and its embedding [B, E] (with those), output [B, H].
  struct Generation {
    Tensor h, c, next_h, next_c, features, embedded, output;
    RecurrentTape tape;
  };
  Generation generation_;
};

}  // namespace cadenza
