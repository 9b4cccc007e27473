// lm: a stacked LSTM over frames 1..T-1 and an affine output layer giving the logits of frames
// 2..T (next-frame prediction). Parameters: "decoder/lstm/layer{l}/{W_ih,W_hh,b}",
// "decoder/output/{W,b}".
#pragma once

#include "models/model.hpp"
#include "nn/linear.hpp"
#include "nn/lstm.hpp"

namespace cadenza {

class LanguageModel : public SequenceModel {
 public:
  LanguageModel(const config::ModelConfig& config, int pitches);

  std::vector<NamedParameter> parameters() override;
  void init(uint64_t seed) override;
  void set_training(bool training) override { lstm_.set_training(training); }
  void set_dropout_step(uint64_t seed, uint64_t step) override {
    lstm_.set_dropout_step(seed, step);
  }
  LossValue train_batch(const Batch& batch, const ScoreSink& sink) override;
  void evaluate(const SplitRolls& split, int batch_size, const ScoreSink& sink) override;

 private:
  // frames [T, B, P], mask [T, B]: predicts frames 1..T-1 from frames 0..T-2. With `train`,
  // also backpropagates (gradients scaled by 1 / scored frames).
  LossValue run(const Tensor& frames, const Tensor& mask, bool train, const ScoreSink& sink);

  int pitches_;
  Lstm lstm_;
  Linear output_;
  LstmTape tape_;
  Tensor inputs_, targets_, target_mask_, hidden_, final_h_, final_c_, logits_;
  Tensor diff_logits_, diff_hidden_, diff_inputs_, diff_h0_, diff_c0_, frames_, mask_;
};

}  // namespace cadenza
