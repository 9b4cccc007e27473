#include "runs/run_dir.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <algorithm>

#include "core/atomic_file.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/json_text.hpp"
#include "runs/system_info.hpp"

namespace cadenza {
namespace fs = std::filesystem;

fs::path RunDirectory::path_for(const config::ResolvedConfig& resolved, const fs::path& runs_root) {
  return runs_root / resolved.config.name / resolved.run_id;
}

std::optional<nlohmann::json> read_manifest(const fs::path& run_dir) {
  const fs::path file = run_dir / "manifest.json";
  if (!fs::exists(file)) return std::nullopt;
  nlohmann::json manifest = parse_json_text(read_file(file), file.string(), JsonSource::kInput);
  if (!manifest.is_object() || !manifest.contains("status") || !manifest["status"].is_string()) {
    throw InputError(
        fmt::format("{}: needs a string 'status' (running, completed, paused, failed, interrupted)",
                    file.string()));
  }
  return manifest;
}

std::string RunDirectory::status_of(const fs::path& run_dir) {
  try {
    const auto manifest = read_manifest(run_dir);
    return manifest ? (*manifest)["status"].get<std::string>() : "";
  } catch (const InputError&) {
    return "";
  }
}

namespace {

// The share counts of every start of a run resumed in `dir` (1 for starts recorded before
// manifests had "data_parallel"), or [] when there is no readable manifest.
nlohmann::json previous_share_history(const fs::path& dir) {
  try {
    const auto manifest = read_manifest(dir);
    if (!manifest) return nlohmann::json::array();
    if (!manifest->contains("data_parallel")) return nlohmann::json::array({1});
    return (*manifest)["data_parallel"].value("share_history", nlohmann::json::array({1}));
  } catch (const std::exception&) {
    return nlohmann::json::array();
  }
}

}  // namespace

RunDirectory::RunDirectory(const config::ResolvedConfig& resolved, const RunStart& start)
    : dir_(path_for(resolved, start.runs_root)), writes_records_(start.writes_records) {
  if (!writes_records_) {
    logger_ =
        std::make_shared<spdlog::logger>("run", std::make_shared<spdlog::sinks::null_sink_mt>());
    metrics_ = std::make_unique<MetricsLog>(dir_ / "metrics.jsonl", dir_ / "metrics.csv",
                                            resolved.run_id, false);
    return;
  }
  const std::string previous_status = status_of(dir_);
  const bool exists = fs::exists(dir_);
  if (exists && start.existing == ExistingRun::kRefuse) {
    throw UsageError(fmt::format(
        "run {} of experiment '{}' already exists at {} (status: {}); pass --force to start it "
        "afresh{}",
        resolved.run_id, resolved.config.name, dir_.string(),
        previous_status.empty() ? "unknown" : previous_status,
        previous_status == "completed" ? "" : ", or --resume to continue it"));
  }
  if (exists && start.existing == ExistingRun::kResume) {
    const auto saved = parse_json_text(read_file(dir_ / "config.json"),
                                       (dir_ / "config.json").string(), JsonSource::kInput);
    // Compared as the run id hashes them: a config.json written before a key was added with
    // its default still resumes under the newer binary.
    if (config::config_identity(saved) != config::config_identity(resolved.canonical)) {
      throw UsageError(
          fmt::format("cannot resume {}: its config.json differs from the resolved "
                      "config (run ids are config hashes, so this file was edited)",
                      dir_.string()));
    }
  }
  nlohmann::json share_history = exists && start.existing == ExistingRun::kResume
                                     ? previous_share_history(dir_)
                                     : nlohmann::json::array();
  const int shares = start.data_parallel.shares;
  const bool shares_changed = !share_history.empty() && share_history.back() != shares;
  share_history.push_back(shares);
  const bool same_shares_throughout =
      std::all_of(share_history.begin(), share_history.end(),
                  [shares](const nlohmann::json& count) { return count == shares; });
  if (exists && start.existing == ExistingRun::kOverwrite) fs::remove_all(dir_);
  fs::create_directories(dir_ / "checkpoints");
  write_file_atomic(dir_ / "config.json", resolved.canonical.dump(2) + "\n");

  const SystemInfo system = collect_system_info();
  manifest_ = {
      {"run_id", resolved.run_id},
      {"config_hash", resolved.hash},
      {"experiment", resolved.config.name},
      {"seed", resolved.config.seed},
      {"git_commit", system.git_commit},
      {"git_dirty", system.git_dirty},
      {"cadenza_version", system.cadenza_version},
      {"compiler", system.compiler},
      {"onednn_version", system.onednn_version},
      {"onednn_isa", system.onednn_isa},
      {"tbb_version", system.tbb_version},
      {"hdf5_version", system.hdf5_version},
      {"cpu_model", system.cpu_model},
      {"host", system.host},
      {"threads",
       {{"cores", start.threads.cores},
        {"compute_openmp", ThreadScope::openmp_threads()},
        {"loader_tbb", start.threads.loader},
        {"tbb_max_parallelism", ThreadScope::tbb_max_parallelism()}}},
      {"parameters", start.parameters},
      {"memory_estimate_bytes", start.memory_estimate_bytes},
      {"data_parallel",
       {{"ranks", start.data_parallel.ranks},
        {"shares", shares},
        {"mpi_library", start.data_parallel.mpi_library},
        {"share_history", share_history},
        {"bit_identical_to_uninterrupted", same_shares_throughout}}},
      {"command_line", start.command_line},
      {"start_time", utc_timestamp()},
      {"end_time", nullptr},
      {"status", "running"},
      {"resumed", exists && start.existing == ExistingRun::kResume},
  };
  write_manifest();

  auto file_sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>((dir_ / "log.txt").string());
  auto console_sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  console_sink->set_level(spdlog::level::info);
  logger_ =
      std::make_shared<spdlog::logger>("run", spdlog::sinks_init_list{file_sink, console_sink});
  logger_->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%l] %v");
  logger_->flush_on(spdlog::level::info);
  logger_->info("run {} of '{}' in {}", resolved.run_id, resolved.config.name, dir_.string());
  if (shares_changed) {
    logger_->warn(
        "run {} was trained with {} batch share(s) (MPI ranks) and continues with {}: it is no "
        "longer bit-identical to an uninterrupted run (docs/scale.md#mpi)",
        resolved.run_id, share_history[share_history.size() - 2].get<int>(), shares);
  }

  metrics_ =
      std::make_unique<MetricsLog>(dir_ / "metrics.jsonl", dir_ / "metrics.csv", resolved.run_id);
}

RunDirectory::~RunDirectory() = default;

void RunDirectory::finish(const std::string& status, const std::string& detail) {
  if (!writes_records_) return;
  manifest_["status"] = status;
  manifest_["end_time"] = utc_timestamp();
  if (!detail.empty()) manifest_["status_detail"] = detail;
  write_manifest();
  logger_->info("run {} {}", manifest_["run_id"].get<std::string>(), status);
}

void RunDirectory::write_manifest() const {
  write_file_atomic(dir_ / "manifest.json", manifest_.dump(2) + "\n");
}

}  // namespace cadenza
