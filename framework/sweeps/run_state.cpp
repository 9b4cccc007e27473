#include "sweeps/run_state.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/json_text.hpp"
#include "runs/run_dir.hpp"
#include "runs/run_lock.hpp"

namespace cadenza {
namespace fs = std::filesystem;

const char* state_name(RunState state) {
  switch (state) {
    case RunState::kDone:
      return "done";
    case RunState::kRunning:
      return "running";
    case RunState::kFailed:
      return "failed";
    case RunState::kPartial:
      return "partial";
    case RunState::kPending:
      return "pending";
  }
  return "unknown";
}

RunFiles run_files(const fs::path& sweep_folder, const PlannedRun& run) {
  const std::string id = run.run_id();
  return {sweep_folder / run.dir, sweep_folder / "locks" / (id + ".lock"),
          sweep_folder / "state" / (id + ".json"), sweep_folder / "logs" / (id + ".log")};
}

nlohmann::json read_run_record(const fs::path& record) {
  if (!fs::exists(record)) return nlohmann::json::object();
  try {
    auto content = parse_json_text(read_file(record), record.string(), JsonSource::kInput);
    return content.is_object() ? content : nlohmann::json::object();
  } catch (const std::exception&) {
    return nlohmann::json::object();
  }
}

void write_run_record(const fs::path& record, const nlohmann::json& content) {
  fs::create_directories(record.parent_path());
  write_file_atomic(record, content.dump(2) + "\n");
}

int64_t newest_checkpoint_step(const fs::path& run_dir) {
  const fs::path folder = run_dir / "checkpoints";
  int64_t newest = -1;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(folder, error)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with("ckpt-") || !name.ends_with(".h5")) continue;
    try {
      newest = std::max<int64_t>(newest, std::stoll(name.substr(5, name.size() - 8)));
    } catch (const std::exception&) {
      // Not a checkpoint name cadenza writes.
    }
  }
  return newest;
}

int64_t trained_epochs(const fs::path& run_dir) {
  int64_t epochs = 0;
  for (const auto& row : read_metrics_rows(run_dir / "metrics.jsonl", BadMetricsRow::kSkip)) {
    if (row.value.is_object() && row.value.value("split", "") == "valid") {
      epochs = std::max<int64_t>(epochs, row.value.value("epoch", int64_t{0}));
    }
  }
  return epochs;
}

nlohmann::json test_metrics(const fs::path& run_dir) {
  nlohmann::json test = nullptr;
  for (auto& row : read_metrics_rows(run_dir / "metrics.jsonl", BadMetricsRow::kSkip)) {
    if (row.value.is_object() && row.value.value("split", "") == "test") {
      test = std::move(row.value);
    }
  }
  return test;
}

namespace {

std::string failure_detail(const nlohmann::json& record, const fs::path& run_dir,
                           const fs::path& log) {
  if (record.value("state", "") == "failed") {
    const std::string how = record.value("signal", 0) != 0
                                ? fmt::format("killed by signal {}", record.value("signal", 0))
                                : fmt::format("exit code {}", record.value("exit_code", -1));
    return fmt::format("{} (attempt {}), log {}", how, record.value("attempts", 0),
                       record.value("log", log.string()));
  }
  // Lenient: the failure is reported with or without the manifest's detail.
  std::string reason;
  try {
    const auto manifest = read_manifest(run_dir);
    if (manifest) reason = manifest->value("status_detail", "");
  } catch (const InputError&) {
  }
  return fmt::format("manifest status failed{}{}, log {}", reason.empty() ? "" : ": ", reason,
                     (run_dir / "log.txt").string());
}

}  // namespace

RunStatus probe_run(const RunFiles& files, const fs::path& sweep_folder) {
  if (!RunLock::is_held(files.lock)) return read_run_status(files, sweep_folder);
  RunStatus status;
  status.state = RunState::kRunning;
  const nlohmann::json record = read_run_record(files.record);
  if (record.value("state", "") == "running") {
    status.detail = fmt::format("attempt {}, pid {} on {} since {}", record.value("attempts", 0),
                                record.value("worker_pid", 0), record.value("host", "?"),
                                record.value("started", "?"));
    if (record.contains("slurm_job")) {
      status.detail += fmt::format(", slurm job {}", record.value("slurm_job", ""));
    }
  }
  return status;
}

RunStatus read_run_status(const RunFiles& files, const fs::path& sweep_folder) {
  RunStatus status;
  const nlohmann::json record = read_run_record(files.record);
  const std::string manifest_status = RunDirectory::status_of(files.run_dir);
  if (manifest_status == "completed") {
    status.state = RunState::kDone;
    const auto test = test_metrics(files.run_dir);
    if (test.is_object() && test.contains("nll")) {
      status.detail = fmt::format("test nll {:.4f}", test["nll"].get<double>());
    }
    return status;
  }
  if (record.value("state", "") == "failed" || manifest_status == "failed") {
    status.state = RunState::kFailed;
    status.detail = failure_detail(record, files.run_dir, fs::relative(files.log, sweep_folder));
    return status;
  }
  const int64_t step = newest_checkpoint_step(files.run_dir);
  if (fs::exists(files.run_dir / "config.json") && step >= 0) {
    status.state = RunState::kPartial;
    status.detail = fmt::format("checkpoint at step {}", step);
    return status;
  }
  status.state = RunState::kPending;
  if (fs::exists(files.run_dir)) status.detail = "started before, no checkpoint yet";
  return status;
}

}  // namespace cadenza
