#include "runs/metrics_log.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/json_text.hpp"

namespace cadenza {
namespace {

const std::vector<std::string> kLeadingColumns = {"run_id", "epoch", "step", "split"};

std::string csv_cell(const nlohmann::json& value) {
  if (value.is_null()) return "";
  if (value.is_string()) {
    const auto text = value.get<std::string>();
    if (text.find_first_of(",\"\n") == std::string::npos) return text;
    std::string quoted = "\"";
    for (const char c : text)
      quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    return quoted + "\"";
  }
  return value.dump();
}

}  // namespace

MetricsLog::MetricsLog(std::filesystem::path jsonl_path, std::filesystem::path csv_path,
                       std::string run_id, bool write_files)
    : jsonl_path_(std::move(jsonl_path)),
      csv_path_(std::move(csv_path)),
      run_id_(std::move(run_id)),
      write_files_(write_files) {
  if (!write_files_) return;
  if (!std::filesystem::exists(jsonl_path_)) {
    write();
    return;
  }
  for (auto& row : read_metrics_rows(jsonl_path_, BadMetricsRow::kThrow))
    rows_.push_back(std::move(row.value));
}

nlohmann::json MetricsLog::make_row(int64_t epoch, int64_t step, const std::string& split,
                                    const nlohmann::json& fields) const {
  nlohmann::json row = nlohmann::json::object();
  row["run_id"] = run_id_;
  row["epoch"] = epoch;
  row["step"] = step;
  row["split"] = split;
  for (const auto& [name, value] : fields.items())
    row[name] = value;
  return row;
}

void MetricsLog::append(int64_t epoch, int64_t step, const std::string& split,
                        const nlohmann::json& fields) {
  append(std::vector<nlohmann::json>{make_row(epoch, step, split, fields)});
}

void MetricsLog::append(std::vector<nlohmann::json> rows) {
  for (auto& row : rows)
    rows_.push_back(std::move(row));
  write();
}

void MetricsLog::truncate_after(int64_t step) {
  std::erase_if(rows_,
                [step](const nlohmann::json& row) { return row["step"].get<int64_t>() > step; });
  write();
}

void MetricsLog::reset_to(std::vector<nlohmann::json> rows) {
  rows_ = std::move(rows);
  write();
}

void MetricsLog::write() const {
  if (!write_files_) return;
  std::string jsonl;
  for (const auto& row : rows_)
    jsonl += row.dump() + "\n";
  write_file_atomic(jsonl_path_, jsonl);
  write_file_atomic(csv_path_, metrics_to_csv(rows_));
}

std::vector<MetricsRow> read_metrics_rows(const std::filesystem::path& jsonl_path,
                                          BadMetricsRow on_bad_row) {
  std::vector<MetricsRow> rows;
  if (!std::filesystem::exists(jsonl_path)) return rows;
  std::istringstream lines(read_file(jsonl_path));
  std::string line;
  int line_number = 0;
  while (std::getline(lines, line)) {
    ++line_number;
    if (line.empty()) continue;
    const std::string origin = fmt::format("{} line {}", jsonl_path.string(), line_number);
    if (on_bad_row == BadMetricsRow::kThrow) {
      rows.push_back({line_number, parse_json_text(line, origin, JsonSource::kInput)});
    } else if (auto row = parse_json_or_none(line, origin, JsonSource::kInput)) {
      rows.push_back({line_number, std::move(*row)});
    }
  }
  return rows;
}

std::string metrics_to_csv(const std::vector<nlohmann::json>& rows) {
  std::vector<std::string> columns = kLeadingColumns;
  for (const auto& row : rows) {
    for (const auto& [name, value] : row.items()) {
      if (std::find(columns.begin(), columns.end(), name) == columns.end()) columns.push_back(name);
    }
  }
  std::string csv = fmt::format("{}\n", fmt::join(columns, ","));
  for (const auto& row : rows) {
    std::vector<std::string> cells;
    for (const auto& column : columns)
      cells.push_back(row.contains(column) ? csv_cell(row[column]) : "");
    csv += fmt::format("{}\n", fmt::join(cells, ","));
  }
  return csv;
}

}  // namespace cadenza
