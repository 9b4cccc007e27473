// seq2seq: an encoder (model.encoder_cell: LSTM, GRU or plain RNN) reads the context [Tc, B, P];
// a bridge maps its final states of each layer to the decoder's initial state; the decoder
// (model.cell) reads the previous frames and predicts the target segment [Tt, B, P]. The bridge
// carries h always and the cell state c only from an LSTM encoder to an LSTM decoder; an LSTM
// decoder after another cell starts from c = 0. With model.embedding_size both read embedded
// frames, through one shared embedding (models/frame_embedding.hpp). Attention (model.attention !=
// none) looks at the encoder states:
//   luong     decoder states h_t attend (batched over t); output layer reads tanh(W_c [c_t; h_t]);
//   bahdanau  at step t the previous top decoder state attends, the context c_t joins the input
//             frame in the decoder's input, and the output layer reads tanh(W_c [c_t; h_t]).
// Parameters: "embedding/W" (with an embedding), "encoder/<cell>/..." (nn/recurrent_cells.hpp),
// "bridge/h/{W,b}", "bridge/c/{W,b}" (only when the encoder's state width differs from the
// decoder's or the encoder is bidirectional; bridge/c only between two LSTMs),
// "decoder/<cell>/...", "decoder/attention/...", "decoder/combine/W_c", "decoder/output/{W,b}".
#pragma once

#include <memory>
#include <string>

#include "models/frame_embedding.hpp"
#include "models/model.hpp"
#include "models/scheduled_sampling.hpp"
#include "nn/attention.hpp"
#include "nn/eltwise.hpp"
#include "nn/linear.hpp"
#include "nn/recurrent.hpp"

namespace cadenza {

class Seq2SeqModel : public SequenceModel {
 public:
  // pitches: the columns of a frame (keys, or classes of a categorical output).
  Seq2SeqModel(const config::ModelConfig& config, int pitches, FrameOutput output,
               int context_frames, int target_frames);

  std::vector<NamedParameter> parameters() override;
  void init(uint64_t seed) override;
  void set_training(bool training) override;
  void set_training_step(uint64_t seed, uint64_t step) override;
  FrameOutput frame_output() const override { return loss_.output(); }
  int64_t scored_frames(const Batch& batch) const override;
  LossValue train_batch(const Batch& batch, const ScoreSink& sink, int64_t loss_frames) override;
  // Walks each sequence in target segments starting at frames 1, 1 + Tt, 1 + 2 Tt, ...; the
  // encoder reads the up to Tc frames before each segment. Segments with the same context
  // length are batched together, so no encoder input is ever padded.
  void evaluate(const SplitRolls& split, int batch_size, const ScoreSink& sink) override;
  // models/seq2seq_generate.cpp: the segments of evaluate(), continued past the history. The
  // encoder reads the last Tc frames of each stream (fewer at its start), the decoder steps
  // through Tt frames from there, then the window slides by Tt and the encoder reads again.
  void begin_generation(const Tensor& history, Tensor& logits) override;
  void continue_generation(const Tensor& frame, Tensor& logits) override;
  GenerationAttention generation_attention() const override { return generation_.attention; }
  int64_t generation_segment_frames() const override { return target_frames_; }

 private:
  // context [Tc, B, P]; decoder_inputs, targets [Tt, B, P]; target_mask [Tt, B]. With `train`,
  // also backpropagates, the gradients scaled by `grad_scale` (1 / the frames the loss is the
  // mean over).
  LossValue run(const Tensor& context, const Tensor& decoder_inputs, const Tensor& targets,
                const Tensor& target_mask, bool train, const ScoreSink& sink, float grad_scale);

  enum class Style { none, luong, bahdanau };

  // Encoder final states [L*D, B, He] -> decoder initial states [L, B, Hd] (c: LSTMs only).
  void bridge_forward(const Tensor& enc_h, const Tensor& enc_c);
  void bridge_backward(const Tensor& diff_h0, const Tensor& diff_c0);
  void decode_luong(const Tensor& decoder_inputs);
  void decode_bahdanau(const Tensor& decoder_inputs);
  void backward_luong(const Tensor& diff_combined);
  void backward_bahdanau(const Tensor& diff_combined);
  // Generation: encodes the latest frames and sets the decoder's initial state; one decoder
  // step on the latest frame -> logits [B, P].
  void start_generation_segment();
  void generation_step(Tensor& logits);

  int pitches_;
  int context_frames_;
  int target_frames_;
  Style style_;
  int64_t layers_, encoder_hidden_, decoder_hidden_, directions_;
  FrameEmbedding embedding_;
  std::unique_ptr<Recurrent> encoder_;
  std::unique_ptr<Recurrent> decoder_;
  std::string encoder_prefix_, decoder_prefix_;
  bool bridge_c_state_;  // both cells are LSTMs, so c crosses the bridge
  std::unique_ptr<Linear> bridge_h_, bridge_c_;
  Eltwise bridge_tanh_{Activation::tanh};
  std::unique_ptr<Attention> attention_;
  std::unique_ptr<AttentionCombine> combine_;
  Linear output_;
  ScheduledSampling sampling_;
  FrameLoss loss_;

  // Forward state kept for backward.
  RecurrentTape encoder_tape_, decoder_tape_;
  Tensor encoder_out_, encoder_h_, encoder_c_, joined_h_, joined_c_, bridged_h_pre_;
  Tensor decoder_h0_, decoder_c0_, decoder_out_, decoder_h_, decoder_c_, combined_, logits_;
  Tensor key_mask_, context_, weights_, encoder_embedded_, decoder_embedded_;
  AttentionKeys keys_;
  AttentionTape attention_tape_;
  AttentionCombineTape combine_tape_;
  // Bahdanau: one entry per decoder step.
  struct Step {
    RecurrentTape recurrent;
    AttentionTape attention;
    AttentionCombineTape combine;
    Tensor query, context, weights, input, output, h, c;
  };
  std::vector<Step> steps_;
  Tensor diff_logits_, diff_combined_, diff_context_, diff_queries_, diff_decoder_out_;
  Tensor diff_inputs_, diff_h0_, diff_c0_, diff_keys_, diff_encoder_h_, diff_encoder_c_;
  Tensor diff_encoder_in_, diff_enc_h0_, diff_enc_c0_;
  Tensor frames_a_, frames_b_, frames_c_, mask_;

  // Step-wise generation state. input [B, P] is the latest frame, embedded [B, E] its embedding
  // (with one), joined [B, E + Hk] the Bahdanau decoder's input [embedded; context].
  struct Generation {
    std::vector<float> recent;  // the latest frames of every stream, frame-major [n, B, P]
    int64_t frames = 0;         // frames in each stream so far
    int64_t batch = 0;
    int64_t position = 0;         // decoder steps taken in the current segment
    Tensor h, c, next_h, next_c;  // decoder states [L, B, Hd]
    Tensor encoder_in, encoder_embedded, encoder_out, encoder_h, encoder_c, key_mask;
    Tensor input, embedded, joined, output, query, context, combined, logits;
    RecurrentTape encoder_tape, decoder_tape;
    AttentionKeys keys;
    AttentionTape attention_tape;
    AttentionCombineTape combine_tape;
    GenerationAttention attention;
  };
  Generation generation_;
};

}  // namespace cadenza
