#include "experiments/run_collection.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/json_text.hpp"
#include "runs/run_dir.hpp"
#include "search/search_confirm.hpp"
#include "train/checkpoint_format.hpp"

namespace cadenza {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::string_view kSweepFormat = "cadenza-sweep";
constexpr int kSweepFormatVersion = 1;
constexpr int kRunSearchDepth = 3;

const std::string kPathHelp =
    "pass run directories (with config.json), a sweep directory (with sweep.json), a search "
    "directory (with search.json) or a folder that holds run directories";

json parse_json_file(const fs::path& file) {
  return parse_json_text(read_file(file), file.string(), JsonSource::kInput);
}

void flatten(const json& value, const std::string& prefix, std::map<std::string, json>& out) {
  if (value.is_object() && !value.empty()) {
    for (const auto& [key, child] : value.items())
      flatten(child, prefix.empty() ? key : prefix + "." + key, out);
    return;
  }
  out[prefix] = value;
}

void read_config(const fs::path& dir, RunRecord& run) {
  const fs::path file = dir / "config.json";
  const json config = parse_json_file(file);
  if (!config.is_object()) {
    throw InputError(fmt::format("{}: must be a JSON object (a resolved config)", file.string()));
  }
  flatten(config, "", run.config);
  const auto seed = run.config.find("seed");
  if (seed == run.config.end() || !seed->second.is_number_integer()) {
    throw InputError(fmt::format("{}: 'seed' must be an integer, got {}", file.string(),
                                 seed == run.config.end() ? "nothing" : seed->second.dump()));
  }
  run.seed = seed->second.get<int64_t>();
  const auto dataset = run.config.find("data.dataset");
  if (dataset == run.config.end() || !dataset->second.is_string()) {
    throw InputError(fmt::format("{}: 'data.dataset' must be a string, got {}", file.string(),
                                 dataset == run.config.end() ? "nothing" : dataset->second.dump()));
  }
  run.dataset = dataset->second.get<std::string>();
}

// Status and parameter count from the manifest (runs/run_dir.hpp); runs older than the manifest's
// "parameters" field count them in best.h5.
void read_status(const fs::path& dir, RunRecord& run) {
  const std::optional<json> manifest = read_manifest(dir);
  if (!manifest) {
    run.status = "unknown";
    run.status_detail = "no manifest.json";
    return;
  }
  run.status = (*manifest)["status"].get<std::string>();
  if (manifest->contains("status_detail") && (*manifest)["status_detail"].is_string()) {
    run.status_detail = (*manifest)["status_detail"].get<std::string>();
  }
  if (manifest->contains("parameters") && (*manifest)["parameters"].is_number_integer() &&
      (*manifest)["parameters"].get<int64_t>() > 0) {
    run.parameters = (*manifest)["parameters"].get<int64_t>();
  }
}

std::optional<double> number_field(const json& row, const char* key) {
  const auto field = row.find(key);
  if (field == row.end() || !field->is_number()) return std::nullopt;
  return field->get<double>();
}

void read_metrics(const fs::path& dir, RunRecord& run) {
  const fs::path file = dir / "metrics.jsonl";
  double seconds = 0.0;
  bool timed = false;
  for (auto& [line_number, row] : read_metrics_rows(file, BadMetricsRow::kThrow)) {
    if (!row.is_object() || !row.contains("split") || !row["split"].is_string() ||
        !row.contains("epoch") || !row["epoch"].is_number_integer()) {
      throw InputError(fmt::format("{}: line {} needs a string 'split' and an integer 'epoch'",
                                   file.string(), line_number));
    }
    const std::string split = row["split"].get<std::string>();
    const int64_t epoch = row["epoch"].get<int64_t>();
    if (split == "train" || split == "valid") {
      const auto duration = number_field(row, split == "train" ? "epoch_s" : "eval_s");
      if (duration) {
        seconds += *duration;
        timed = true;
      }
    }
    if (split == "valid") {
      if (const auto nll = number_field(row, "nll")) run.valid_nll[epoch] = *nll;
    } else if (split == "test") {
      if (row.contains("best_epoch") && row["best_epoch"].is_number_integer()) {
        run.best_epoch = row["best_epoch"].get<int64_t>();
      }
      run.test = std::move(row);
    }
  }
  if (timed) run.train_seconds = seconds;
}

// generated/stats.json and generated/*/stats.json, in path order.
std::vector<fs::path> generated_stats_files(const fs::path& dir) {
  const fs::path generated = dir / "generated";
  std::vector<fs::path> files;
  if (!fs::is_directory(generated)) return files;
  if (fs::exists(generated / "stats.json")) files.push_back(generated / "stats.json");
  for (const auto& item : fs::directory_iterator(generated)) {
    if (item.is_directory() && fs::exists(item.path() / "stats.json")) {
      files.push_back(item.path() / "stats.json");
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

void read_music_distances(const fs::path& dir, RunRecord& run) {
  const std::vector<fs::path> files = generated_stats_files(dir);
  std::map<std::string, std::vector<double>> values;
  for (const fs::path& file : files) {
    const json stats = parse_json_file(file);
    const json* distances = nullptr;
    if (stats.is_object() && stats.contains("generated") && stats["generated"].is_object() &&
        stats["generated"].contains("distances") && stats["generated"]["distances"].is_object()) {
      distances = &stats["generated"]["distances"];
    }
    if (distances == nullptr) {
      throw InputError(fmt::format(
          "{}: expected {{\"generated\": {{\"distances\": {{\"pitch_class_kl\": ...}}}}}} (the "
          "stats.json of cadenza generate --stats)",
          file.string()));
    }
    for (const auto& [name, value] : distances->items()) {
      if (!value.is_number()) {
        throw InputError(fmt::format("{}: generated.distances.{} must be a number, got {}",
                                     file.string(), name, value.dump()));
      }
      values[name].push_back(value.get<double>());
    }
  }
  for (const auto& [name, list] : values) {
    double sum = 0.0;
    for (const double v : list)
      sum += v;
    run.music_distances[name] = sum / static_cast<double>(list.size());
  }
}

RunRecord missing_run(const fs::path& dir, const json& listed) {
  RunRecord run;
  run.dir = dir;
  run.run_id = listed.value("run_id", dir.filename().string());
  run.status = "missing";
  run.status_detail = "listed in sweep.json; the directory does not exist (not started)";
  if (listed.contains("seed") && listed["seed"].is_number_integer()) {
    run.seed = listed["seed"].get<int64_t>();
  }
  if (listed.contains("dataset") && listed["dataset"].is_string()) {
    run.dataset = listed["dataset"].get<std::string>();
  }
  return run;
}

// The runs sweep.json lists, in its order: each existing directory read, each missing one
// reported as such.
std::vector<RunRecord> read_sweep(const fs::path& sweep_dir) {
  const fs::path file = sweep_dir / "sweep.json";
  const json sweep = parse_json_file(file);
  if (!sweep.is_object() || sweep.value("format", json()) != kSweepFormat ||
      sweep.value("version", json()) != kSweepFormatVersion) {
    throw InputError(fmt::format("{}: expected \"format\": \"{}\" and \"version\": {}",
                                 file.string(), kSweepFormat, kSweepFormatVersion));
  }
  if (!sweep.contains("runs") || !sweep["runs"].is_array()) {
    throw InputError(
        fmt::format("{}: 'runs' must be an array of {{\"run_id\", \"dir\", ...}}", file.string()));
  }
  std::string selection;
  if (sweep.contains("selection")) {
    if (!sweep["selection"].is_string()) {
      throw InputError(fmt::format("{}: 'selection' must be a string, got {}", file.string(),
                                   sweep["selection"].dump()));
    }
    selection = sweep["selection"].get<std::string>();
  }
  std::vector<RunRecord> runs;
  for (std::size_t i = 0; i < sweep["runs"].size(); ++i) {
    const json& listed = sweep["runs"][i];
    if (!listed.is_object() || !listed.contains("dir") || !listed["dir"].is_string()) {
      throw InputError(fmt::format(
          "{}: runs[{}] needs a string 'dir' (the run directory, relative to the sweep directory)",
          file.string(), i));
    }
    const fs::path dir = sweep_dir / listed["dir"].get<std::string>();
    runs.push_back(fs::exists(dir / "config.json") ? read_run(dir) : missing_run(dir, listed));
    runs.back().selection = selection;
  }
  return runs;
}

// Run directories (folders with config.json) up to kRunSearchDepth levels below `folder`.
std::vector<fs::path> find_run_dirs(const fs::path& folder) {
  std::vector<fs::path> found;
  for (auto it = fs::recursive_directory_iterator(folder); it != fs::recursive_directory_iterator();
       ++it) {
    if (!it->is_directory()) continue;
    if (fs::exists(it->path() / "config.json")) {
      found.push_back(it->path());
      it.disable_recursion_pending();
    } else if (it.depth() + 1 >= kRunSearchDepth) {
      it.disable_recursion_pending();
    }
  }
  std::sort(found.begin(), found.end());
  return found;
}

}  // namespace

std::string RunRecord::problem() const {
  if (status == "missing") return status_detail;
  if (status != "completed") {
    std::string reason = fmt::format("status '{}'", status);
    if (!status_detail.empty()) reason += ": " + status_detail;
    return reason;
  }
  if (!test) return "completed, but metrics.jsonl has no test row";
  return "";
}

RunRecord read_run(const fs::path& dir) {
  if (!fs::exists(dir / "config.json")) {
    throw UsageError(fmt::format("{} is not a run directory: it has no config.json; {}",
                                 dir.string(), kPathHelp));
  }
  RunRecord run;
  run.dir = dir;
  run.run_id = dir.filename().string();
  read_config(dir, run);
  read_status(dir, run);
  read_metrics(dir, run);
  read_music_distances(dir, run);
  const fs::path best = dir / "checkpoints" / "best.h5";
  if (!run.parameters && fs::exists(best)) run.parameters = checkpoint_parameter_count(best);
  return run;
}

std::vector<RunRecord> collect_runs(const std::vector<fs::path>& paths) {
  std::vector<RunRecord> runs;
  std::set<fs::path> seen;
  const auto add = [&](RunRecord run) {
    if (seen.insert(fs::weakly_canonical(run.dir)).second) runs.push_back(std::move(run));
  };
  for (const fs::path& path : paths) {
    if (!fs::exists(path)) {
      throw UsageError(fmt::format("{} does not exist; {}", path.string(), kPathHelp));
    }
    if (!fs::is_directory(path)) {
      throw UsageError(fmt::format("{} is not a directory; {}", path.string(), kPathHelp));
    }
    if (fs::exists(path / "config.json")) {
      add(read_run(path));
      continue;
    }
    if (fs::exists(path / "sweep.json")) {
      for (RunRecord& run : read_sweep(path))
        add(std::move(run));
      continue;
    }
    if (fs::exists(path / "search.json")) {
      const fs::path confirmation = confirmation_folder(path);
      if (!fs::exists(confirmation / "sweep.json")) {
        throw UsageError(fmt::format(
            "{} is a search directory without confirmation runs ({} does not exist): they are "
            "trained after the search's last rung when its experiment sets search.confirm.seeds; "
            "to compare its trials instead, pass {}",
            path.string(), (confirmation / "sweep.json").string(), (path / "runs").string()));
      }
      for (RunRecord& run : read_sweep(confirmation))
        add(std::move(run));
      continue;
    }
    const std::vector<fs::path> run_dirs = find_run_dirs(path);
    if (run_dirs.empty()) {
      throw UsageError(fmt::format(
          "{} is not a run directory (no config.json), not a sweep directory (no sweep.json), "
          "and holds no run directory within {} levels; {}",
          path.string(), kRunSearchDepth, kPathHelp));
    }
    for (const fs::path& dir : run_dirs)
      add(read_run(dir));
  }
  return runs;
}

}  // namespace cadenza
