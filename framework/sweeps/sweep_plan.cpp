#include "sweeps/sweep_plan.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/json_text.hpp"

namespace cadenza {
namespace fs = std::filesystem;

namespace {

std::string variant_label(const config::SweepPoint& point) {
  std::vector<std::string> parts;
  for (const auto& [key, value] : point) {
    if (key != "seed") parts.push_back(config::setting_label(key, value));
  }
  return parts.empty() ? "base" : fmt::format("{}", fmt::join(parts, ", "));
}

std::string settings_label(const config::SweepPoint& point) {
  std::vector<std::string> parts;
  for (const auto& [key, value] : point)
    parts.push_back(config::setting_label(key, value));
  return fmt::format("{}", fmt::join(parts, ", "));
}

PlannedRun plan_run(const fs::path& experiment, config::SweepPoint point, size_t index,
                    size_t count) {
  PlannedRun run;
  for (const auto& [key, value] : point)
    run.override_args.push_back(config::override_text(key, value));
  try {
    run.resolved = config::resolve_experiment(experiment, run.override_args);
  } catch (const ConfigError& e) {
    if (point.empty()) throw;
    throw ConfigError(fmt::format("{}: sweep run {} of {} ({}): {}", experiment.string(), index + 1,
                                  count, settings_label(point), e.what()));
  }
  run.variant = variant_label(point);
  run.overrides = std::move(point);
  run.dir = fs::path("runs") / run.resolved.config.name / run.resolved.run_id;
  return run;
}

}  // namespace

SweepPlan plan_sweep(const fs::path& experiment) {
  const config::Json merged = config::load_experiment(experiment);
  SweepPlan plan;
  plan.experiment = experiment;
  plan.axes = config::Json::object();
  std::vector<config::SweepPoint> points = {{}};
  if (merged.contains("sweep")) {
    const config::SweepSpec spec = config::parse_sweep(merged["sweep"], experiment.string());
    plan.axes = spec.declaration;
    points = config::expand_sweep(spec);
  }
  for (size_t i = 0; i < points.size(); ++i)
    plan.runs.push_back(plan_run(experiment, std::move(points[i]), i, points.size()));
  plan.name = plan.runs.front().resolved.config.name;
  return plan;
}

fs::path sweep_folder(const SweepPlan& plan, const fs::path& sweeps_dir) {
  return sweeps_dir / plan.name;
}

nlohmann::json sweep_document(const SweepPlan& plan) {
  nlohmann::json runs = nlohmann::json::array();
  for (const auto& run : plan.runs) {
    nlohmann::json overrides = nlohmann::json::object();
    for (const auto& [key, value] : run.overrides)
      overrides[key] = value;
    runs.push_back({{"run_id", run.run_id()},
                    {"dir", run.dir.generic_string()},
                    {"overrides", overrides},
                    {"variant", run.variant},
                    {"seed", run.resolved.config.seed},
                    {"dataset", run.resolved.config.data.dataset}});
  }
  nlohmann::json document = {
      {"format", "cadenza-sweep"}, {"version", 1},
      {"name", plan.name},         {"experiment", plan.experiment.generic_string()},
      {"axes", plan.axes},         {"runs", runs}};
  if (!plan.selection.empty()) document["selection"] = plan.selection;
  return document;
}

std::vector<std::string> write_sweep_document(const SweepPlan& plan, const fs::path& folder) {
  const fs::path path = folder / "sweep.json";
  std::vector<std::string> dropped;
  if (fs::exists(path)) {
    try {
      const auto previous = parse_json_text(read_file(path), path.string(), JsonSource::kInput);
      for (const auto& run : previous.at("runs")) {
        const auto id = run.at("run_id").get<std::string>();
        const bool kept = std::any_of(plan.runs.begin(), plan.runs.end(),
                                      [&](const PlannedRun& r) { return r.run_id() == id; });
        if (!kept) dropped.push_back(id);
      }
    } catch (const nlohmann::json::exception&) {
      // An unreadable previous plan is simply replaced.
    }
  }
  fs::create_directories(folder);
  write_file_atomic(path, sweep_document(plan).dump(2) + "\n");
  return dropped;
}

Shard parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  Shard shard;
  const auto parse = [&](std::string_view part, int& out) {
    const auto* end = part.data() + part.size();
    const auto [ptr, ec] = std::from_chars(part.data(), end, out);
    return ec == std::errc() && ptr == end && !part.empty();
  };
  const bool parsed = slash != std::string::npos &&
                      parse(std::string_view(text).substr(0, slash), shard.index) &&
                      parse(std::string_view(text).substr(slash + 1), shard.count);
  if (!parsed || shard.count < 1 || shard.index < 0 || shard.index >= shard.count) {
    throw UsageError(fmt::format(
        "--shard {}: expected i/n with 0 <= i < n (e.g. 0/4 ... 3/4: the i-th of n disjoint "
        "parts of the plan)",
        text));
  }
  return shard;
}

std::vector<size_t> shard_runs(const SweepPlan& plan, const Shard& shard) {
  std::vector<size_t> by_id(plan.runs.size());
  for (size_t i = 0; i < by_id.size(); ++i)
    by_id[i] = i;
  std::sort(by_id.begin(), by_id.end(),
            [&](size_t a, size_t b) { return plan.runs[a].run_id() < plan.runs[b].run_id(); });
  std::vector<size_t> mine;
  for (size_t position = static_cast<size_t>(shard.index); position < by_id.size();
       position += static_cast<size_t>(shard.count)) {
    mine.push_back(by_id[position]);
  }
  std::sort(mine.begin(), mine.end());
  return mine;
}

}  // namespace cadenza
