// The runs a comparison reads, collected from the paths given on the command line:
//
//   a run directory      holds config.json (and manifest.json, metrics.jsonl; run_dir.hpp);
//   a sweep directory    holds sweep.json, format "cadenza-sweep", version 1, whose
//                        runs[] name each run's "dir" relative to the sweep directory (runs listed
//                        there but not started yet are reported as missing), and whose optional
//                        "selection" says how a program chose the runs' configs;
//   a search directory   holds search.json (search/search_plan.hpp): its confirmation runs, the
//                        sweep directory confirm/ (search/search_confirm.hpp), not its trials;
//   a folder of runs     anything else: every run directory up to three levels below it (e.g.
//                        results/runs/quickstart), in path order.
//
// Each run is read from its own files only: seed and dataset from config.json ("seed",
// "data.dataset"), status from manifest.json, the test metrics of the best-valid checkpoint and
// the valid nll per epoch from metrics.jsonl, the parameter count from the shapes stored in
// checkpoints/best.h5 (no tensor is read), and the music distances of generated pieces from the
// stats.json files `cadenza generate --stats` writes: generated/stats.json and
// generated/<folder>/stats.json (one folder per generation seed), each {"generated":
// {"distances": {"pitch_class_kl": ..., ...}}}.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace cadenza {

struct RunRecord {
  std::filesystem::path dir;
  std::string run_id;  // the directory's name
  // manifest.json "status" (running, completed, failed, interrupted), or "missing" for a run a
  // sweep lists whose directory does not exist.
  std::string status;
  std::string status_detail;  // manifest "status_detail" (a failed run's error), if any
  // Every config.json leaf by dotted key path ("model.type" -> "seq2seq"); empty when missing.
  std::map<std::string, nlohmann::json> config;
  int64_t seed = 0;
  std::string dataset;
  // The "test" row of metrics.jsonl (metrics of the best-valid checkpoint), if logged.
  std::optional<nlohmann::json> test;
  // Valid nll by epoch (the last row logged for an epoch).
  std::map<int64_t, double> valid_nll;
  std::optional<int64_t> best_epoch;  // test row "best_epoch"
  // Sum of the train rows' epoch_s and the valid rows' eval_s: training and validation wall time
  // over every session of a resumed run, without setup and the test evaluation.
  std::optional<double> train_seconds;
  // The model's parameters: the manifest's count, or for older runs the elements of every /params
  // tensor in checkpoints/best.h5; unset when neither is there.
  std::optional<int64_t> parameters;
  // Distances of the generated music from the test split, by name ("pitch_class_kl", ...), each
  // the mean over the run's stats.json files; empty when nothing was generated.
  std::map<std::string, double> music_distances;
  // The "selection" of the sweep.json that lists the run (how its config was chosen, e.g. by a
  // search on validation data), or "".
  std::string selection;

  // Why the run cannot enter the statistics ("" when it can): not completed, or no test row.
  std::string problem() const;
};

// Collects and reads every run under `paths`, in order (a path named twice counts once). Throws
// UsageError when a path does not exist or holds no run, and InputError naming the file when a
// sweep.json, config.json, manifest.json or metrics.jsonl is malformed.
std::vector<RunRecord> collect_runs(const std::vector<std::filesystem::path>& paths);

// Reads one run directory (see collect_runs).
RunRecord read_run(const std::filesystem::path& dir);

}  // namespace cadenza
