// The checkpoint file format: one HDF5 file holds everything a run needs to continue bit-exactly.
// Writing, reading and validating one file; the checkpoints/ folder of a run is
// train/checkpoint_store.hpp. HDF5 itself is reached through core/hdf5.hpp.
//
// File layout (magic "CADENZA-CKPT", format_version 3; versions 1 and 2 still load: version 1
// lacks /epoch_progress, and versions 1 and 2 hold LSTM parameters only, named as in version 3):
//
//   /                              root group attributes
//     magic                        string  "CADENZA-CKPT"
//     format_version               int64   3
//     config                       string  the resolved experiment config (JSON)
//     run_id                       string
//     step                         int64   optimiser updates done when the checkpoint was taken
//     epoch                        int64   epochs finished
//     created                      string  UTC time, ISO 8601 ("2024-05-01T12:00:00Z")
//     checksum                     string  sha256 (hex) of the checksum message below
//   /params/<parameter name>       float32 datasets with the parameter's shape, in PyTorch's
//                                  layout, grouped by cell (added in version 3: gru, rnn):
//                                  /params/decoder/lstm/layer0/W_ih [4H, I], .../W_hh [4H, H],
//                                    .../b [4H] (PyTorch's bias_ih + bias_hh);
//                                  /params/decoder/gru/layer0/W_ih [3H, I], .../W_hh [3H, H],
//                                    .../b_ih [3H], .../b_hh [3H] (gates r, z, n, kept apart);
//                                  /params/decoder/rnn/layer0/W_ih [H, I], .../W_hh [H, H],
//                                    .../b [H] (the summed bias); bidirectional layers [2, ...]
//   /optimizer                     attributes name (string: adam | adamw | sgd | rmsprop) and
//                                  step (int64: updates applied)
//     <parameter name>/<slot>      float32, the parameter's shape; slot = exp_avg, exp_avg_sq
//                                  (adam, adamw), momentum_buffer (sgd), square_avg (rmsprop)
//   /schedule         attribute state      string  JSON of LrSchedule::save()
//   /early_stopping   attribute state      string  JSON of EarlyStopping::save()
//   /rng              attribute state      string  JSON object of every RNG stream (the trainer's)
//   /loader           attribute position   string  JSON object of the loader position
//   /epoch_progress   attribute state      string  JSON of the train metrics accumulated in the
//                                                  epoch so far when the checkpoint was taken in
//                                                  the middle of one (SIGINT/SIGTERM); {} at an
//                                                  epoch's end (added in version 2)
//   /metrics          attribute rows       string  the metrics rows so far, JSON lines
//
// Datasets are contiguous, little-endian; strings are variable-length UTF-8.
//
// Checksum. Every dataset and every attribute except /@checksum is an entry with a key: a
// dataset's full path ("/params/decoder/W_ih"), or the owning object's path, '@' and the
// attribute's name ("/@step", "/optimizer@name", "/schedule@state"). Entries are sorted by key
// (byte-wise) and each contributes
//     key, 0x00, type, 0x00, 8-byte little-endian length of the value bytes, the value bytes
// where type is "f32" followed by " <d0>x<d1>x..." for a dataset of that shape (just "f32" for a
// scalar), "i64" or "str", and the value bytes are the raw little-endian float32 or int64 values,
// or the string's UTF-8 bytes. The checksum is the sha256 of the concatenation.
//
// Files are written to a temporary name, flushed, fsynced and renamed (core/atomic_file.hpp), so
// a checkpoint is complete or absent even after kill -9. Loading validates magic, version,
// checksum and structure, and throws InputError naming the file and what is wrong.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/tensor.hpp"
#include "nn/parameter.hpp"
#include "train/optimizer.hpp"

namespace cadenza {

inline constexpr std::string_view kCheckpointMagic = "CADENZA-CKPT";
inline constexpr int64_t kCheckpointFormatVersion = 3;
inline constexpr int64_t kOldestCheckpointFormatVersion = 1;

struct CheckpointContents {
  std::string config_json;  // the resolved config
  std::string run_id;
  int64_t step = 0;
  int64_t epoch = 0;
  // UTC ISO 8601. save_checkpoint writes the current time when this is empty.
  std::string created;
  std::map<std::string, Tensor> params;  // by hierarchical name
  OptimizerState optimizer;
  nlohmann::json schedule = nlohmann::json::object();
  nlohmann::json early_stopping = nlohmann::json::object();
  nlohmann::json rng = nlohmann::json::object();
  nlohmann::json loader = nlohmann::json::object();
  nlohmann::json epoch_progress = nlohmann::json::object();  // {} unless taken mid-epoch
  std::vector<nlohmann::json> metrics;                       // one JSON object per row
};

// Copies of the parameter values, by name.
std::map<std::string, Tensor> snapshot_parameters(const std::vector<NamedParameter>& parameters);
// Copies saved values into `parameters`. Throws InputError naming `source` (e.g. the checkpoint
// file) and the parameter when one is missing, has another shape, or is not in the model.
void restore_parameters(const std::map<std::string, Tensor>& saved,
                        const std::vector<NamedParameter>& parameters, std::string_view source);

// Writes `contents` to `path` atomically. Throws Error naming the file on I/O failure and when a
// name cannot be stored (e.g. a parameter name that is both a dataset and a group).
void save_checkpoint(const std::filesystem::path& path, const CheckpointContents& contents);
// Reads and validates a checkpoint. Throws InputError naming the file and the problem: not HDF5 or
// truncated, wrong magic, unsupported version, checksum mismatch, missing or malformed entries.
CheckpointContents load_checkpoint(const std::filesystem::path& path);

// Elements of every parameter tensor in the checkpoint (validated as load_checkpoint does).
int64_t checkpoint_parameter_count(const std::filesystem::path& path);

}  // namespace cadenza
