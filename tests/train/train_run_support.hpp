// Test support for the end-to-end training tests: experiments that extend the smoke experiment, a
// melody (token) experiment on a slice of the Nottingham tunes, metrics rows without their
// wall-clock fields, where a run resumed, and bit-equality of two runs' best weights.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "support/process.hpp"
#include "train/checkpoint_format.hpp"

namespace cadenza::testing {

// The smoke experiment with extra settings (JSON members after a comma), written to
// `dir`/NAME.json.
inline std::filesystem::path smoke_experiment(const ScratchDir& dir, const std::string& name,
                                              const std::string& extra) {
  const auto path = dir / (name + ".json");
  std::ofstream(path) << R"({"extends": ")"
                      << (source_dir() / "experiments" / "smoke.json").string() << R"(", "name": ")"
                      << name << "\"" << extra << "}";
  return path;
}

// A token experiment, written to `dir`/NAME.json: the melodies of the first 120 Nottingham tunes
// (by file name), imported once per `dir` into `dir`/melody.h5 by `cadenza data import --melody`;
// an lm of 1 x 32 LSTM units, 3 epochs of windows of 64 events, batches of 16, Adam 1e-2,
// transposition by up to 2 semitones (in `dir`/melody_base.json, which the experiment extends).
// `extra` as for smoke_experiment.
inline std::filesystem::path melody_experiment(const ScratchDir& dir, const std::string& name,
                                               const std::string& extra) {
  const auto dataset = dir / "melody.h5";
  if (!std::filesystem::exists(dataset)) {
    const auto tunes = dir / "nottingham";
    std::filesystem::create_directories(tunes);
    std::vector<std::filesystem::path> files;
    for (const auto& entry :
         std::filesystem::directory_iterator(shared_dir() / "midi" / "nottingham")) {
      if (entry.path().extension() == ".mid") files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    EXPECT_GE(files.size(), 120u) << "the Nottingham corpus in ../shared/midi/nottingham";
    files.resize(std::min<size_t>(files.size(), 120));
    for (const auto& file : files)
      std::filesystem::copy_file(file, tunes / file.filename());
    const auto imported = run_cadenza("data import --melody --track 0 '" + tunes.string() +
                                      "' --out '" + dataset.string() + "'");
    EXPECT_EQ(imported.exit_code, 0) << imported.err;
  }
  const auto base = dir / "melody_base.json";
  std::ofstream(base) << R"({"extends": ")"
                      << (source_dir() / "configs" / "optim" / "adam.json").string()
                      << R"(", "seed": 1, "data": {"dataset": ")" << dataset.string()
                      << R"(", "framing": "window", "window": 64, "stride": 64, "batch_size": 16,)"
                      << R"( "max_transpose": 2, "context_frames": 16, "target_frames": 16},)"
                      << R"( "model": {"type": "lm", "layers": 1, "hidden_size": 32},)"
                      << R"( "train": {"epochs": 3, "optimizer": {"lr": 0.01}}})";
  const auto path = dir / (name + ".json");
  std::ofstream(path) << R"({"extends": ")" << base.string() << R"(", "name": ")" << name << "\""
                      << extra << "}";
  return path;
}

// metrics.jsonl rows without the wall-clock fields (and without run_id when asked).
inline std::vector<nlohmann::json> metrics_without_timings(const std::filesystem::path& run_dir,
                                                           bool drop_run_id = false) {
  std::vector<nlohmann::json> rows;
  std::istringstream lines(slurp(run_dir / "metrics.jsonl"));
  std::string line;
  while (std::getline(lines, line)) {
    auto row = nlohmann::json::parse(line);
    for (const char* timing : {"frames_per_s", "step_ms", "loader_wait_ms", "epoch_s", "eval_s"})
      row.erase(timing);
    if (drop_run_id) row.erase("run_id");
    rows.push_back(row);
  }
  return rows;
}

// The step at which the run's log says it resumed from a checkpoint, or -1 when it never did.
inline int64_t resumed_at_step(const std::filesystem::path& run_dir) {
  static const std::regex resumed(R"(resumed from .*ckpt-\d+\.h5 \(epoch \d+, step (\d+)\))");
  std::smatch match;
  const std::string log = slurp(run_dir / "log.txt");
  return std::regex_search(log, match, resumed) ? std::stoll(match[1]) : -1;
}

// The two runs' best.h5 hold bit-identical parameters.
inline void expect_same_weights(const std::filesystem::path& a, const std::filesystem::path& b) {
  const auto left = load_checkpoint(a / "checkpoints" / "best.h5");
  const auto right = load_checkpoint(b / "checkpoints" / "best.h5");
  ASSERT_EQ(left.params.size(), right.params.size());
  for (const auto& [name, tensor] : left.params) {
    const auto& other = right.params.at(name);
    ASSERT_EQ(tensor.dims(), other.dims()) << name;
    EXPECT_EQ(0, std::memcmp(tensor.data(), other.data(), static_cast<size_t>(tensor.numel()) * 4))
        << name << " differs";
  }
}

}  // namespace cadenza::testing
