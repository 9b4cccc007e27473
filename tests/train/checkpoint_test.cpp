// Checkpoints: bit-exact round trip of every part; truncated, bit-flipped, foreign and missing
// files are rejected with InputError naming the file; the store keeps the last N plus best.h5 and
// falls back to the previous checkpoint (with a warning) when the newest is damaged; h5py reads
// the documented layout and recomputes the checksum.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <hdf5.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>

#include "core/error.hpp"
#include "support/process.hpp"
#include "train/checkpoint_format.hpp"
#include "train/checkpoint_store.hpp"
#include "train/early_stopping.hpp"
#include "train/schedule.hpp"
#include "train/train_test_util.hpp"

namespace cadenza {
namespace {

namespace fs = std::filesystem;
using testing::ScratchDir;
using testing::uniform_tensor;

// A small model's worth of named parameters.
struct Model {
  Model() {
    storage.reserve(4);
    storage.emplace_back("decoder/lstm/layer0/W_ih", std::vector<int64_t>{16, 5});
    storage.emplace_back("decoder/lstm/layer0/W_hh", std::vector<int64_t>{16, 4});
    storage.emplace_back("decoder/lstm/layer0/b", std::vector<int64_t>{16});
    storage.emplace_back("decoder/output/W", std::vector<int64_t>{5, 4});
    for (std::size_t k = 0; k < storage.size(); ++k) {
      storage[k].value = uniform_tensor(storage[k].value.dims(), 21, k, -0.5f, 0.5f);
      storage[k].grad = uniform_tensor(storage[k].value.dims(), 22, k, -0.1f, 0.1f);
      named.push_back({storage[k].name, &storage[k]});
    }
  }
  std::vector<Parameter> storage;
  std::vector<NamedParameter> named;
};

// Contents with every part filled in from the real components.
CheckpointContents sample_contents(int64_t step, int metric_rows = 3) {
  Model model;
  config::OptimizerConfig adam;
  Optimizer optimizer(adam, model.named);
  optimizer.step(1e-3);
  optimizer.step(1e-3);
  config::ScheduleConfig plateau;
  plateau.type = "plateau";
  LrSchedule schedule(plateau, 1e-3, 20);
  schedule.end_epoch(8.5);
  schedule.end_epoch(8.25);
  EarlyStopping early_stopping(5);
  early_stopping.record(1, 8.5);
  early_stopping.record(2, 8.25);

  CheckpointContents contents;
  contents.config_json = R"({"name":"unit","seed":7,"train":{"epochs":20}})";
  contents.run_id = "unit-20240101-000000";
  contents.step = step;
  contents.epoch = 2;
  contents.params = snapshot_parameters(model.named);
  contents.optimizer = optimizer.state();
  contents.schedule = schedule.save();
  contents.early_stopping = early_stopping.save();
  contents.rng = {
      {"seed", 7},
      {"shuffle", {{"key", {123456789u, 987654321u}}, {"position", 18446744073709551615ull}}}};
  contents.loader = {{"epoch", 2}, {"batch", 17}, {"order", {3, 1, 2}}};
  contents.epoch_progress = {{"steps", 17}, {"nll_sum", 0.1 + 0.2}, {"tp", 5}};
  for (int row = 0; row < metric_rows; ++row) {
    contents.metrics.push_back({{"epoch", row + 1},
                                {"split", "valid"},
                                {"nll", 8.0 + 1.0 / (row + 3.0)},
                                {"acc", 0.1 * row}});
  }
  return contents;
}

void expect_same_tensor(const Tensor& a, const Tensor& b, const std::string& what) {
  ASSERT_EQ(a.dims(), b.dims()) << what;
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), static_cast<std::size_t>(a.numel()) * 4)) << what;
}

void expect_same_contents(const CheckpointContents& a, const CheckpointContents& b) {
  EXPECT_EQ(a.config_json, b.config_json);
  EXPECT_EQ(a.run_id, b.run_id);
  EXPECT_EQ(a.step, b.step);
  EXPECT_EQ(a.epoch, b.epoch);
  ASSERT_EQ(a.params.size(), b.params.size());
  for (const auto& [name, tensor] : a.params)
    expect_same_tensor(tensor, b.params.at(name), name);
  EXPECT_EQ(a.optimizer.name, b.optimizer.name);
  EXPECT_EQ(a.optimizer.steps, b.optimizer.steps);
  ASSERT_EQ(a.optimizer.slots.size(), b.optimizer.slots.size());
  for (const auto& [name, slots] : a.optimizer.slots) {
    ASSERT_EQ(slots.size(), b.optimizer.slots.at(name).size()) << name;
    for (const auto& [slot, tensor] : slots)
      expect_same_tensor(tensor, b.optimizer.slots.at(name).at(slot), name + "/" + slot);
  }
  EXPECT_EQ(a.schedule, b.schedule);
  EXPECT_EQ(a.early_stopping, b.early_stopping);
  EXPECT_EQ(a.rng, b.rng);
  EXPECT_EQ(a.loader, b.loader);
  EXPECT_EQ(a.epoch_progress, b.epoch_progress);
  EXPECT_EQ(a.metrics, b.metrics);
}

// Throws unless load_checkpoint fails with InputError whose message names `path` and contains
// `reason`.
void expect_rejected(const fs::path& path, const std::string& reason) {
  try {
    load_checkpoint(path);
    ADD_FAILURE() << path << " was accepted";
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(path.string()), std::string::npos) << message;
    EXPECT_NE(message.find(reason), std::string::npos) << message;
  }
}

// File offset of a contiguous dataset's raw data.
uint64_t dataset_offset(const fs::path& file_path, const std::string& dataset) {
  const hid_t file = H5Fopen(file_path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t data = H5Dopen2(file, dataset.c_str(), H5P_DEFAULT);
  const haddr_t offset = H5Dget_offset(data);
  H5Dclose(data);
  H5Fclose(file);
  EXPECT_NE(offset, HADDR_UNDEF) << dataset;
  return offset;
}

void flip_byte(const fs::path& path, uint64_t offset) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  file.seekg(static_cast<std::streamoff>(offset));
  char byte = 0;
  file.read(&byte, 1);
  byte = static_cast<char>(byte ^ 0x10);
  file.seekp(static_cast<std::streamoff>(offset));
  file.write(&byte, 1);
  ASSERT_TRUE(file.good()) << "cannot damage " << path;
}

TEST(Checkpoint, RoundTripIsBitExact) {
  const ScratchDir scratch;
  const CheckpointContents saved = sample_contents(300);
  const fs::path path = scratch / "ckpt.h5";
  save_checkpoint(path, saved);
  const CheckpointContents loaded = load_checkpoint(path);
  expect_same_contents(saved, loaded);
  EXPECT_TRUE(std::regex_match(loaded.created, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")))
      << loaded.created;
  // Only the checkpoint itself is left: the temporary file was renamed.
  EXPECT_EQ(std::distance(fs::directory_iterator(scratch.path()), fs::directory_iterator()), 1);
  // A given creation time is kept.
  CheckpointContents dated = saved;
  dated.created = "2020-02-02T02:02:02Z";
  save_checkpoint(path, dated);
  EXPECT_EQ(load_checkpoint(path).created, dated.created);
}

TEST(Checkpoint, LargeMetricsAndConfigStrings) {
  const ScratchDir scratch;
  CheckpointContents saved = sample_contents(1, 5000);  // ~300 KB of JSON lines
  saved.config_json = std::string(200000, 'x');
  save_checkpoint(scratch / "big.h5", saved);
  const CheckpointContents loaded = load_checkpoint(scratch / "big.h5");
  EXPECT_EQ(loaded.metrics.size(), 5000u);
  EXPECT_EQ(loaded.metrics, saved.metrics);
  EXPECT_EQ(loaded.config_json, saved.config_json);
}

TEST(Checkpoint, RestoredParametersAreTheSavedOnes) {
  const ScratchDir scratch;
  const CheckpointContents saved = sample_contents(5);
  save_checkpoint(scratch / "c.h5", saved);
  Model model;
  for (Parameter& p : model.storage)
    p.value.zero();
  restore_parameters(load_checkpoint(scratch / "c.h5").params, model.named, "c.h5");
  for (const Parameter& p : model.storage)
    expect_same_tensor(p.value, saved.params.at(p.name), p.name);

  std::map<std::string, Tensor> missing = saved.params;
  missing.erase("decoder/output/W");
  EXPECT_THROW(restore_parameters(missing, model.named, "c.h5"), InputError);
  std::map<std::string, Tensor> reshaped = saved.params;
  reshaped.at("decoder/output/W") = Tensor({4, 5});
  EXPECT_THROW(restore_parameters(reshaped, model.named, "c.h5"), InputError);
  std::map<std::string, Tensor> extra = saved.params;
  extra.emplace("encoder/W", Tensor({2}));
  EXPECT_THROW(restore_parameters(extra, model.named, "c.h5"), InputError);
}

TEST(Checkpoint, TruncatedFileIsRejected) {
  const ScratchDir scratch;
  const fs::path path = scratch / "ckpt-1.h5";
  save_checkpoint(path, sample_contents(1));
  const auto size = fs::file_size(path);
  for (const auto kept : {size - 1, size / 2, uint64_t{100}, uint64_t{0}}) {
    SCOPED_TRACE(kept);
    const fs::path cut = scratch / "cut.h5";
    fs::copy_file(path, cut, fs::copy_options::overwrite_existing);
    fs::resize_file(cut, kept);
    expect_rejected(cut, "");
  }
}

TEST(Checkpoint, FlippedByteInADatasetFailsTheChecksum) {
  const ScratchDir scratch;
  const fs::path path = scratch / "ckpt-1.h5";
  save_checkpoint(path, sample_contents(1));
  for (const std::string dataset :
       {"/params/decoder/lstm/layer0/W_hh", "/optimizer/decoder/output/W/exp_avg_sq"}) {
    SCOPED_TRACE(dataset);
    const fs::path damaged = scratch / "damaged.h5";
    fs::copy_file(path, damaged, fs::copy_options::overwrite_existing);
    flip_byte(damaged, dataset_offset(damaged, dataset) + 13);
    expect_rejected(damaged, "checksum mismatch");
  }
}

TEST(Checkpoint, ForeignMissingAndIncompleteFilesAreRejected) {
  const ScratchDir scratch;
  expect_rejected(scratch / "absent.h5", "no such file");

  const fs::path text = scratch / "text.h5";
  std::ofstream(text) << "not hdf5 at all";
  expect_rejected(text, "not an HDF5 file");

  const fs::path foreign = scratch / "foreign.h5";
  H5Fclose(H5Fcreate(foreign.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
  expect_rejected(foreign, "not a cadenza checkpoint");

  // A checkpoint with its /schedule group removed after writing.
  const fs::path incomplete = scratch / "incomplete.h5";
  save_checkpoint(incomplete, sample_contents(1));
  const hid_t file = H5Fopen(incomplete.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(H5Ldelete(file, "/schedule", H5P_DEFAULT), 0);
  H5Fclose(file);
  expect_rejected(incomplete, "checksum mismatch");
}

TEST(Checkpoint, UnstorableNamesAreRefused) {
  const ScratchDir scratch;
  for (const std::string name : {"", "a//b", "/abs", "a/./b", "x@y", "trailing/"}) {
    CheckpointContents contents = sample_contents(1);
    contents.params.emplace(name, Tensor({1}));
    EXPECT_THROW(save_checkpoint(scratch / "bad.h5", contents), Error) << name;
  }
  EXPECT_FALSE(fs::exists(scratch / "bad.h5"));
}

TEST(CheckpointStore, KeepsTheLastNPlusBest) {
  const ScratchDir scratch;
  CheckpointStore store(scratch / "checkpoints", 2);
  EXPECT_FALSE(store.load_latest_valid().has_value());
  for (int64_t step : {10, 20, 30, 40})
    store.save(sample_contents(step), step == 20);
  const std::vector<fs::path> kept = store.list();
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].filename(), "ckpt-30.h5");
  EXPECT_EQ(kept[1].filename(), "ckpt-40.h5");
  EXPECT_EQ(store.load_best().step, 20);
  EXPECT_EQ(store.load_latest_valid()->contents.step, 40);
  // Temporary files and other names are not checkpoints.
  std::ofstream(store.folder() / ".ckpt-50.h5.1.0.tmp") << "partial";
  std::ofstream(store.folder() / "ckpt-abc.h5") << "x";
  EXPECT_EQ(store.list().size(), 2u);
  EXPECT_THROW(CheckpointStore(scratch / "other", 0), ConfigError);
}

TEST(CheckpointStore, DamagedNewestFallsBackToThePreviousWithAWarning) {
  const ScratchDir scratch;
  CheckpointStore store(scratch / "checkpoints", 3);
  for (int64_t step : {10, 20, 30})
    store.save(sample_contents(step), false);
  const auto log = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(16);
  spdlog::default_logger()->sinks().push_back(log);

  const fs::path newest = store.list().back();
  flip_byte(newest, dataset_offset(newest, "/params/decoder/lstm/layer0/W_ih"));
  const auto loaded = store.load_latest_valid();
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->contents.step, 20);
  EXPECT_EQ(loaded->path.filename(), "ckpt-20.h5");

  fs::resize_file(loaded->path, fs::file_size(loaded->path) / 3);
  EXPECT_EQ(store.load_latest_valid()->contents.step, 10);

  fs::resize_file(store.list().front(), 10);
  EXPECT_THROW(store.load_latest_valid(), InputError);

  auto& sinks = spdlog::default_logger()->sinks();
  sinks.erase(std::remove(sinks.begin(), sinks.end(), log), sinks.end());
  const std::vector<std::string> warnings = log->last_formatted();
  const auto mentions = [&](const std::string& name) {
    return std::any_of(warnings.begin(), warnings.end(), [&](const std::string& line) {
      return line.find("warning") != std::string::npos && line.find(name) != std::string::npos;
    });
  };
  EXPECT_TRUE(mentions("ckpt-30.h5"));
  EXPECT_TRUE(mentions("ckpt-20.h5"));
}

TEST(CheckpointH5py, PythonReadsEveryDocumentedEntryAndTheChecksum) {
  const ScratchDir scratch;
  const fs::path path = scratch / "ckpt-300.h5";
  const CheckpointContents saved = sample_contents(300);
  save_checkpoint(path, saved);
  const auto run =
      testing::run_python_script("h5py_checkpoint_check.py", "'" + path.string() + "'");
  ASSERT_EQ(run.status, 0) << run.output;
  const nlohmann::json found = nlohmann::json::parse(run.output);
  EXPECT_TRUE(found["checksum_verified"].get<bool>());
  EXPECT_EQ(found["config"], nlohmann::json::parse(saved.config_json));
  EXPECT_EQ(found["run_id"], saved.run_id);
  EXPECT_EQ(found["step"], 300);
  EXPECT_EQ(found["epoch"], 2);
  EXPECT_EQ(found["optimizer"]["name"], "adam");
  EXPECT_EQ(found["optimizer"]["step"], 2);
  for (const auto& [name, tensor] : saved.params)
    EXPECT_EQ(found["params"][name], nlohmann::json(tensor.dims())) << name;
  EXPECT_EQ(found["params"].size(), saved.params.size());
  EXPECT_EQ(found["schedule"], saved.schedule);
  EXPECT_EQ(found["early_stopping"], saved.early_stopping);
  EXPECT_EQ(found["rng"], saved.rng);
  EXPECT_EQ(found["loader"], saved.loader);
  EXPECT_EQ(found["epoch_progress"], saved.epoch_progress);
  EXPECT_EQ(found["metrics"], nlohmann::json(saved.metrics));
}

// h5py removes one entry and re-signs the file with the documented checksum recipe: the checksum
// passes (so both sides compute it alike) and the missing part is named.
TEST(CheckpointH5py, WellSignedButIncompleteFilesNameWhatIsMissing) {
  const ScratchDir scratch;
  const fs::path original = scratch / "ckpt-1.h5";
  save_checkpoint(original, sample_contents(1));
  const auto drop = [&](const std::string& key) {
    const fs::path path = scratch / "dropped.h5";
    fs::copy_file(original, path, fs::copy_options::overwrite_existing);
    const auto run = testing::run_python_script("h5py_checkpoint_check.py",
                                                "--drop '" + key + "' '" + path.string() + "'");
    EXPECT_EQ(run.status, 0) << run.output;
    return path;
  };
  expect_rejected(drop("/schedule@state"), "missing string attribute /schedule@state");
  expect_rejected(drop("/@step"), "missing integer attribute /@step");
  expect_rejected(drop("/optimizer@name"), "missing string attribute /optimizer@name");

  const fs::path without_weight = drop("/params/decoder/output/W");
  const CheckpointContents loaded = load_checkpoint(without_weight);
  Model model;
  try {
    restore_parameters(loaded.params, model.named, without_weight.string());
    ADD_FAILURE() << "a checkpoint without decoder/output/W restored the model";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("decoder/output/W"), std::string::npos) << e.what();
  }
  config::OptimizerConfig adam;
  Optimizer optimizer(adam, model.named);
  const CheckpointContents without_slot =
      load_checkpoint(drop("/optimizer/decoder/output/W/exp_avg"));
  EXPECT_THROW(optimizer.load_state(without_slot.optimizer), InputError);
  expect_rejected(drop("/epoch_progress@state"), "missing string attribute /epoch_progress@state");
}

// Format version 2 added /epoch_progress (a checkpoint taken mid-epoch on a signal). A file as
// version 1 wrote it still loads, with no progress: it was always taken at an epoch's end.
TEST(CheckpointH5py, VersionOneFilesStillLoad) {
  const ScratchDir scratch;
  const fs::path path = scratch / "ckpt-1.h5";
  const CheckpointContents saved = sample_contents(1);
  save_checkpoint(path, saved);
  const auto run = testing::run_python_script("h5py_checkpoint_check.py",
                                              "--as-version-1 '" + path.string() + "'");
  ASSERT_EQ(run.status, 0) << run.output;
  const CheckpointContents loaded = load_checkpoint(path);
  EXPECT_EQ(loaded.epoch_progress, nlohmann::json::object());
  CheckpointContents expected = saved;
  expected.epoch_progress = nlohmann::json::object();
  expect_same_contents(loaded, expected);
}

// Format version 3 added the GRU and plain-RNN parameter groups; an LSTM checkpoint's layout is
// unchanged. A file as version 2 wrote it still loads, whole.
TEST(CheckpointH5py, VersionTwoLstmFilesStillLoad) {
  const ScratchDir scratch;
  const fs::path path = scratch / "ckpt-2.h5";
  const CheckpointContents saved = sample_contents(1);
  save_checkpoint(path, saved);
  const auto run = testing::run_python_script("h5py_checkpoint_check.py",
                                              "--as-version-2 '" + path.string() + "'");
  ASSERT_EQ(run.status, 0) << run.output;
  expect_same_contents(load_checkpoint(path), saved);
}

}  // namespace
}  // namespace cadenza
