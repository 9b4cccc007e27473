// A run's directory, results/runs/<experiment>/<run-id>/:
//   config.json     the resolved config (canonical JSON, every key)
//   manifest.json   identity, provenance, machine, threads, times, status
//   log.txt         the run's log
//   metrics.jsonl   one JSON object per evaluation row; metrics.csv the same rows
//   checkpoints/    HDF5 checkpoints (written by the trainer)
// Every file is written atomically (temp + fsync + rename) except log.txt, which is appended
// line by line. A completed run is never silently overwritten.
#pragma once

#include <spdlog/logger.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "config/resolve.hpp"
#include "core/threads.hpp"
#include "runs/metrics_log.hpp"

namespace cadenza {

// The one reader of a run's manifest.json: nullopt when the file is absent; InputError naming the
// file when it cannot be read, is not JSON, or is not an object with a string "status". Callers
// that must not fail (status displays, thread bookkeeping) catch it and say so.
std::optional<nlohmann::json> read_manifest(const std::filesystem::path& run_dir);

enum class ExistingRun {
  kRefuse,     // an existing run directory is an error that says what to do
  kOverwrite,  // --force: start afresh
  kResume,     // --resume: keep config, metrics and checkpoints; the config must be identical
};

// How a run is computed across processes (train/data_parallel.hpp): MPI ranks, and the shares of
// each global batch (one per rank, or several computed in turn by one process).
struct DataParallelLayout {
  int ranks = 1;
  int shares = 1;
  std::string mpi_library;  // the MPI library's version string
};

struct RunStart {
  std::filesystem::path runs_root = "results/runs";
  ExistingRun existing = ExistingRun::kRefuse;
  std::string command_line;
  ThreadBudget threads;
  int64_t parameters = 0;             // the model's parameter count (models/model_size.hpp)
  int64_t memory_estimate_bytes = 0;  // its estimated training memory
  DataParallelLayout data_parallel;
  // Whether this process writes the run's files: the only process, or rank 0 of several. The other
  // ranks open the directory after rank 0 and only read it (its checkpoints, to resume).
  bool writes_records = true;
};

class RunDirectory {
 public:
  // Creates (or reopens, see ExistingRun) the directory of `resolved` under start.runs_root and
  // writes config.json and a manifest with status "running". The manifest's "data_parallel" holds
  // the layout and "share_history", the share count of every start of the run; a run resumed with
  // another share count than it had says (log, stderr, and "bit_identical": false in the manifest)
  // that it is no longer bit-identical to an uninterrupted run. Without start.writes_records
  // nothing is written: the log goes nowhere and the metrics stay in memory.
  RunDirectory(const config::ResolvedConfig& resolved, const RunStart& start);
  ~RunDirectory();

  // Directory of a run: <runs_root>/<experiment name>/<run id>.
  static std::filesystem::path path_for(const config::ResolvedConfig& resolved,
                                        const std::filesystem::path& runs_root);
  // The manifest's status, or "" when the directory holds no readable manifest (the lenient
  // reading, for callers that only decide whether a run is done).
  static std::string status_of(const std::filesystem::path& run_dir);

  const std::filesystem::path& path() const { return dir_; }
  std::filesystem::path checkpoints() const { return dir_ / "checkpoints"; }
  spdlog::logger& log() { return *logger_; }
  MetricsLog& metrics() { return *metrics_; }
  const nlohmann::json& manifest() const { return manifest_; }
  bool writes_records() const { return writes_records_; }

  // Records the final status ("completed", "paused", "failed", "interrupted") and end time (nothing
  // without writes_records).
  void finish(const std::string& status, const std::string& detail = "");

 private:
  void write_manifest() const;

  std::filesystem::path dir_;
  bool writes_records_;
  nlohmann::json manifest_;
  std::shared_ptr<spdlog::logger> logger_;
  std::unique_ptr<MetricsLog> metrics_;
};

}  // namespace cadenza
