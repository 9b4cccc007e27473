// The typed experiment config. Each struct declares its keys once, in `visit`: name, member
// (whose initial value is the default), allowed values or range, and help. See schema.hpp; a
// closed-set key held as an enum lists its values in config/enums.hpp.
// To add a key: add the member with its default, declare it in `visit`, and use it;
// docs/configs.md's key table is regenerated with `build/cadenza config --explain --markdown`.
#pragma once

#include <string>

#include "config/enums.hpp"
#include "config/schema.hpp"

namespace cadenza::config {

struct DataConfig {
  std::string dataset = "JSB_Chorales";
  std::string root;
  std::string framing = "full";
  int batch_size = 8;
  int eval_batch_size = 32;
  int window = 128;
  int stride = 64;
  int context_frames = 32;
  int target_frames = 32;
  int max_transpose = 0;
  bool shuffle = true;
  int prefetch = 4;

  template <class V>
  void visit(V& v) {
    v.key("dataset", dataset, Choices{},
          "JSB_Chorales | Nottingham | MuseData | Piano_midi (located as described under "
          "data.root), Nottingham_melody (the melody events cadenza data import --melody makes, "
          "found the same way), or the path of a cadenza .h5 dataset (piano roll or tokens)");
    v.key("root", root, Choices{},
          "Folder searched first for datasets; then $CADENZA_DATA, ../shared/datasets, "
          "datasets/cache");
    v.key("framing", framing, Choices{{"full", "bucket", "window", "segments"}},
          "How sequences become training samples: whole sequences, whole sequences bucketed by "
          "length, fixed windows, or context+target segments (encoder-decoders)");
    v.key("batch_size", batch_size, IntRange{1, 4096}, "Sequences per training batch");
    v.key("eval_batch_size", eval_batch_size, IntRange{1, 4096},
          "Sequences (lm) or segments (seq2seq) per evaluation batch");
    v.key("window", window, IntRange{2, 1000000}, "Frames per window when framing = window");
    v.key("stride", stride, IntRange{1, 1000000},
          "Frames between consecutive sample starts when framing = window or segments");
    v.key("context_frames", context_frames, IntRange{1, 100000},
          "Frames the encoder reads before each target segment (seq2seq)");
    v.key("target_frames", target_frames, IntRange{1, 100000},
          "Frames the decoder predicts per segment (seq2seq)");
    v.key("max_transpose", max_transpose, IntRange{0, 12},
          "Training augmentation: transpose each sample by a uniform k in [-n, n] semitones, "
          "dropping notes that leave the range (0 = off)");
    v.key("shuffle", shuffle, "Shuffle training samples each epoch (seeded)");
    v.key("prefetch", prefetch, IntRange{1, 64}, "Batches the loader may build ahead");
  }
};

struct DropoutConfig {
  double input = 0.0;
  double hidden = 0.0;
  double output = 0.0;

  template <class V>
  void visit(V& v) {
    v.key("input", input, FloatRange{0.0, 0.95},
          "Dropout probability on the recurrent layers' inputs");
    v.key("hidden", hidden, FloatRange{0.0, 0.95},
          "Dropout probability between stacked recurrent layers");
    v.key("output", output, FloatRange{0.0, 0.95},
          "Dropout probability on the last recurrent layer's outputs");
  }
};

struct ScheduledSamplingConfig {
  double probability = 0.0;
  int64_t ramp_steps = 0;

  template <class V>
  void visit(V& v) {
    v.key("probability", probability, FloatRange{0.0, 1.0},
          "Chance that a decoder input frame (after the first) is replaced by a frame sampled "
          "from the model's own prediction of it (0 = teacher forcing)");
    v.key("ramp_steps", ramp_steps, IntRange{0, INT64_MAX},
          "Training steps over which the chance rises linearly from 0 to probability (0 = "
          "constant)");
  }
};

struct ModelConfig {
  ModelType type = ModelType::lm;
  AttentionKind attention = AttentionKind::none;
  AttentionStyle attention_style = AttentionStyle::luong;
  Cell cell = Cell::lstm;
  EncoderCell encoder_cell = EncoderCell::same;
  int layers = 1;
  int hidden_size = 128;
  int encoder_hidden_size = 0;
  int embedding_size = 0;
  int lookback_bar_steps = 0;
  bool bidirectional_encoder = false;
  double forget_bias = 0.0;
  DropoutConfig dropout;
  std::string precision = "f32";
  std::string output_bias_init = "frequency";
  ScheduledSamplingConfig scheduled_sampling;

  template <class V>
  void visit(V& v) {
    v.key("type", type,
          "lm: a decoder-only recurrent stack predicting the next frame; seq2seq: an encoder "
          "reads the context, a decoder predicts the target");
    v.key("attention", attention,
          "Attention score of a seq2seq decoder over encoder states (Luong dot, Luong general, "
          "Bahdanau additive)");
    v.key("attention_style", attention_style,
          "luong: attention after the decoder, batched over time; bahdanau: input feeding, "
          "step by step");
    v.key("cell", cell,
          "Recurrent cell of the decoder (and lm), on oneDNN: lstm; gru (linear-before-reset, "
          "PyTorch's nn.GRU); rnn_tanh or rnn_relu (PyTorch's nn.RNN)");
    v.key("encoder_cell", encoder_cell,
          "Recurrent cell of a seq2seq encoder (same = model.cell); the bridge passes h, and c "
          "only from an LSTM to an LSTM (docs/models.md)");
    v.key("layers", layers, IntRange{1, 8}, "Stacked recurrent layers (encoder and decoder)");
    v.key("hidden_size", hidden_size, IntRange{1, 4096}, "Decoder (and lm) hidden size");
    v.key("encoder_hidden_size", encoder_hidden_size, IntRange{0, 4096},
          "Encoder hidden size (0 = same as hidden_size)");
    v.key("embedding_size", embedding_size, IntRange{0, 4096},
          "Input embedding: a bias-free linear map of each frame to this many values before the "
          "recurrent layers (on token data an event embedding, nn.Embedding; shared by a "
          "seq2seq's encoder and decoder); 0 = the frames go in as they are (one-hot for tokens)");
    v.key("lookback_bar_steps", lookback_bar_steps, IntRange{0, 256},
          "Magenta's lookback inputs for a token lm (lookback_rnn): with S steps per bar, each "
          "input also carries the events 1 and 2 bars before the predicted step, whether the "
          "event repeats them, and a binary counter of the position (docs/melody.md); 16 = "
          "Magenta's 4/4 bar at 4 steps per quarter; 0 = off");
    v.key("bidirectional_encoder", bidirectional_encoder,
          "Bidirectional encoder, bridged to the decoder's state size");
    v.key("forget_bias", forget_bias, FloatRange{-100.0, 100.0},
          "Initial bias of every LSTM's forget gate (the summed b_ih + b_hh of PyTorch); 0 "
          "initialises it uniformly like the other biases. Bai et al. 2018 start it at 10");
    v.section("dropout", dropout, "Dropout probabilities");
    v.key("precision", precision, Choices{{"f32", "bf16"}},
          "bf16: bf16 weights and activations for recurrent and affine layers, f32 master weights "
          "and states");
    v.key("output_bias_init", output_bias_init, Choices{{"frequency", "uniform"}},
          "Initial output bias: the log-odds of each key's frequency in the training split (the "
          "first updates then learn structure, not the keys' rarity), or PyTorch's uniform "
          "default");
    v.section(
        "scheduled_sampling", scheduled_sampling,
        "Scheduled sampling while training, in its two-pass form (docs/training.md, \"Scheduled "
        "sampling\")");
  }
};

// The encoder's cell: model.encoder_cell, or model.cell when it is `same`.
inline Cell encoder_cell_of(const ModelConfig& model) {
  switch (model.encoder_cell) {
    case EncoderCell::lstm:
      return Cell::lstm;
    case EncoderCell::gru:
      return Cell::gru;
    case EncoderCell::rnn_tanh:
      return Cell::rnn_tanh;
    case EncoderCell::rnn_relu:
      return Cell::rnn_relu;
    case EncoderCell::same:
      break;
  }
  return model.cell;
}

struct OptimizerConfig {
  std::string name = "adam";
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double momentum = 0.9;
  double weight_decay = 0.0;

  template <class V>
  void visit(V& v) {
    v.key("name", name, Choices{{"adam", "adamw", "sgd", "rmsprop"}}, "Optimiser");
    v.key("lr", lr, FloatRange{1e-12, 10.0}, "Initial learning rate");
    v.key("beta1", beta1, FloatRange{0.0, 0.999999}, "Adam/AdamW first-moment decay");
    v.key("beta2", beta2, FloatRange{0.0, 0.999999},
          "Adam/AdamW second-moment decay; RMSProp's squared-gradient decay");
    v.key("eps", eps, FloatRange{1e-16, 1.0}, "Denominator epsilon (Adam, AdamW, RMSProp)");
    v.key("momentum", momentum, FloatRange{0.0, 0.999999}, "SGD momentum");
    v.key("weight_decay", weight_decay, FloatRange{0.0, 1.0},
          "Weight decay (decoupled for AdamW, L2 for the others)");
  }
};

struct ScheduleConfig {
  std::string type = "constant";
  int warmup_steps = 0;
  int step_epochs = 10;
  double gamma = 0.1;
  int patience = 3;
  double min_lr = 0.0;

  template <class V>
  void visit(V& v) {
    v.key("type", type, Choices{{"constant", "step", "plateau", "bai2018", "cosine"}},
          "Learning-rate schedule; bai2018 divides by 10 when valid nll exceeds the max of the "
          "previous 3 epochs, after epoch 10");
    v.key("warmup_steps", warmup_steps, IntRange{0, 100000000},
          "Linear warm-up steps before the schedule (0 = none)");
    v.key("step_epochs", step_epochs, IntRange{1, 100000}, "step: epochs between decays");
    v.key("gamma", gamma, FloatRange{1e-6, 1.0}, "step and plateau: decay factor");
    v.key("patience", patience, IntRange{1, 100000},
          "plateau: epochs without valid improvement before a decay");
    v.key("min_lr", min_lr, FloatRange{0.0, 10.0}, "Lower bound of the learning rate");
  }
};

struct CheckpointConfig {
  int keep_last = 2;
  int every_epochs = 1;

  template <class V>
  void visit(V& v) {
    v.key("keep_last", keep_last, IntRange{1, 1000},
          "Most recent checkpoints kept (the best-valid one is always kept too)");
    v.key("every_epochs", every_epochs, IntRange{1, 100000}, "Epochs between checkpoints");
  }
};

struct TrainConfig {
  int epochs = 20;
  int64_t max_steps = 0;
  OptimizerConfig optimizer;
  ScheduleConfig schedule;
  double clip_norm = 5.0;
  int early_stopping_patience = 0;
  NanGuard nan_guard = NanGuard::stop;
  CheckpointConfig checkpoint;

  template <class V>
  void visit(V& v) {
    v.key("epochs", epochs, IntRange{1, 100000}, "Maximum training epochs");
    v.key("max_steps", max_steps, IntRange{0, INT64_MAX},
          "Stop after this many steps (0 = no limit)");
    v.section("optimizer", optimizer, "Optimiser settings");
    v.section("schedule", schedule, "Learning-rate schedule");
    v.key("clip_norm", clip_norm, FloatRange{0.0, 1e6},
          "Global gradient-norm clipping threshold (0 = off)");
    v.key("early_stopping_patience", early_stopping_patience, IntRange{0, 100000},
          "Stop after this many epochs without a better valid nll (0 = off)");
    v.key("nan_guard", nan_guard,
          "On a NaN/Inf loss: stop naming the step, or roll back to the last good checkpoint "
          "with a lower learning rate");
    v.section("checkpoint", checkpoint, "Checkpointing");
  }
};

struct ThreadsConfig {
  int compute = 0;
  int loader = 0;

  template <class V>
  void visit(V& v) {
    v.key("compute", compute, IntRange{0, 1024},
          "OpenMP threads for oneDNN (0 = every core the loader leaves)");
    v.key("loader", loader, IntRange{0, 1024},
          "oneTBB threads for the data pipeline (0 = build batches on the training thread); "
          "compute + loader must not exceed the cores");
  }
};

struct ExperimentConfig {
  std::string name;
  std::string description;
  int64_t seed = 1;
  DataConfig data;
  ModelConfig model;
  TrainConfig train;
  ThreadsConfig threads;

  template <class V>
  void visit(V& v) {
    v.key("name", name, Choices{},
          "Experiment name: runs go to results/runs/<name>/<run-id> (default: the file's stem)");
    v.key("description", description, Choices{}, "Free text, kept with the results");
    v.key("seed", seed, IntRange{0, INT64_MAX},
          "Seed of every random stream (init, shuffle, dropout, augmentation)");
    v.section("data", data, "Dataset and batching");
    v.section("model", model, "Model architecture");
    v.section("train", train, "Training");
    v.section("threads", threads, "Thread budget");
  }
};

}  // namespace cadenza::config
