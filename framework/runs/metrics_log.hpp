// metrics.jsonl and metrics.csv of a run: one row per (epoch, split) evaluation. Every append
// rewrites both files atomically, so after a kill -9 they hold exactly the rows logged before it.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace cadenza {

class MetricsLog {
 public:
  // Loads the rows already in `jsonl_path`, so that a resumed run continues its log; creates
  // empty files when there are none yet. With `write_files` false the log lives in memory only
  // and touches no file (the ranks of a multi-rank run other than rank 0).
  MetricsLog(std::filesystem::path jsonl_path, std::filesystem::path csv_path, std::string run_id,
             bool write_files = true);

  // A row as the log keeps it: run_id, epoch, step and split, then `fields`, the metric values
  // (nll, acc, precision, recall, f1, frames_per_s, ...).
  nlohmann::json make_row(int64_t epoch, int64_t step, const std::string& split,
                          const nlohmann::json& fields) const;
  // Appends one row (make_row's).
  void append(int64_t epoch, int64_t step, const std::string& split, const nlohmann::json& fields);
  // Appends rows made by make_row, all in one rewrite of the files.
  void append(std::vector<nlohmann::json> rows);

  // Drops every row logged after `step` (used when resuming from a checkpoint taken at `step`).
  void truncate_after(int64_t step);
  // Replaces every row (a resumed run restores the rows saved in its checkpoint).
  void reset_to(std::vector<nlohmann::json> rows);

  const std::vector<nlohmann::json>& rows() const { return rows_; }

 private:
  void write() const;

  std::filesystem::path jsonl_path_;
  std::filesystem::path csv_path_;
  std::string run_id_;
  bool write_files_;
  std::vector<nlohmann::json> rows_;
};

// What read_metrics_rows does with a line of metrics.jsonl that is not JSON.
enum class BadMetricsRow {
  kThrow,  // InputError "<file> line <n>: invalid JSON ..." (readers whose result depends on it)
  kSkip,   // the line is left out (status displays, which must not fail on a torn file)
};

// One line of metrics.jsonl: its 1-based line number in the file and its parsed value.
struct MetricsRow {
  int line = 0;
  nlohmann::json value;
};

// The one reader of a metrics.jsonl file: its non-empty lines, each parsed as one JSON value, in
// file order; an empty vector when the file is absent. JSON that cadenza refuses in any case (too
// deep, a number too large) throws InputError under both policies.
std::vector<MetricsRow> read_metrics_rows(const std::filesystem::path& jsonl_path,
                                          BadMetricsRow on_bad_row);

// CSV text of `rows`: columns run_id, epoch, step, split, then other fields in order of first
// appearance; a field missing from a row is an empty cell.
std::string metrics_to_csv(const std::vector<nlohmann::json>& rows);

}  // namespace cadenza
