#include "experiments/reproduction.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "config/resolve.hpp"
#include "config/suggest.hpp"
#include "core/error.hpp"

namespace cadenza {
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kMembers = {"published", "dataset", "variant", "tolerance_pct"};

std::string required_text(const config::Json& block, const std::string& member,
                          const std::string& origin, const std::string& example) {
  if (!block.contains(member) || !block[member].is_string() ||
      block[member].get<std::string>().empty()) {
    throw ConfigError(
        fmt::format("{}: reproduces.{} must be a non-empty string (e.g. \"{}\"), got {}", origin,
                    member, example, block.contains(member) ? block[member].dump() : "nothing"));
  }
  return block[member].get<std::string>();
}

bool matches(const PlannedRun& run, const config::SweepPoint& variant) {
  return std::all_of(variant.begin(), variant.end(), [&](const auto& wanted) {
    return std::any_of(run.overrides.begin(), run.overrides.end(),
                       [&](const auto& setting) { return setting == wanted; });
  });
}

}  // namespace

ReproductionTarget parse_reproduces(const config::Json& block, const std::string& origin) {
  if (!block.is_object()) {
    throw ConfigError(fmt::format(
        "{}: 'reproduces' must be an object {{\"published\": \"<source>/<model>\", \"dataset\": "
        "\"...\"}}, got {}",
        origin, block.dump()));
  }
  for (const auto& [member, value] : block.items()) {
    if (std::find(kMembers.begin(), kMembers.end(), member) != kMembers.end()) continue;
    const std::string nearest = config::nearest_name(member, kMembers);
    throw ConfigError(
        fmt::format("{}: reproduces: unknown member '{}'{}; valid: {}", origin, member,
                    nearest.empty() ? "" : fmt::format(" (did you mean '{}'?)", nearest),
                    fmt::join(kMembers, ", ")));
  }
  ReproductionTarget target;
  target.published_id = required_text(block, "published", origin, "bai2018/lstm");
  target.dataset = required_text(block, "dataset", origin, "JSB_Chorales");
  if (block.contains("variant")) {
    const config::Json& variant = block["variant"];
    if (!variant.is_object() || variant.empty()) {
      throw ConfigError(
          fmt::format("{}: reproduces.variant must be a non-empty object of sweep settings, e.g. "
                      "{{\"model.type\": \"lm\"}}, got {}",
                      origin, variant.dump()));
    }
    for (const auto& [key, value] : variant.items())
      target.variant.emplace_back(key, value);
  }
  if (block.contains("tolerance_pct")) {
    const config::Json& tolerance = block["tolerance_pct"];
    if (!tolerance.is_number() || tolerance.get<double>() <= 0.0) {
      throw ConfigError(fmt::format(
          "{}: reproduces.tolerance_pct must be a number > 0 (percent of the published value), "
          "got {}",
          origin, tolerance.dump()));
    }
    target.tolerance_pct = tolerance.get<double>();
  }
  return target;
}

std::vector<Reproduction> list_reproductions(const fs::path& dir) {
  if (!fs::is_directory(dir)) {
    throw ConfigError(fmt::format(
        "{}: no such folder; reproductions live in experiments/reproduce/ (run cadenza from the "
        "project root, or pass --experiments-dir)",
        dir.string()));
  }
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().extension() == ".json") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  std::vector<Reproduction> reproductions;
  for (const auto& file : files) {
    const config::Json merged = config::load_experiment(file);
    if (!merged.contains("reproduces")) {
      throw ConfigError(fmt::format(
          "{}: a reproduction needs a 'reproduces' block naming the published number it aims at",
          file.string()));
    }
    Reproduction reproduction;
    reproduction.name = file.stem().string();
    reproduction.experiment = file;
    reproduction.description = merged.value("description", "");
    reproduction.target = parse_reproduces(merged["reproduces"], file.string());
    reproductions.push_back(std::move(reproduction));
  }
  return reproductions;
}

const Reproduction& find_reproduction(const std::vector<Reproduction>& reproductions,
                                      const std::string& name) {
  std::vector<std::string> names;
  for (const auto& reproduction : reproductions) {
    if (reproduction.name == name) return reproduction;
    names.push_back(reproduction.name);
  }
  const std::string nearest = config::nearest_name(name, names);
  throw ConfigError(
      fmt::format("unknown reproduction '{}'{}; valid: {}", name,
                  nearest.empty() ? "" : fmt::format(" (did you mean '{}'?)", nearest),
                  fmt::join(names, ", ")));
}

std::vector<size_t> judged_runs(const SweepPlan& plan, const ReproductionTarget& target,
                                const std::string& origin) {
  std::set<std::string> axis_keys;
  for (const auto& [key, value] : plan.runs.front().overrides)
    axis_keys.insert(key);
  for (const auto& [key, value] : target.variant) {
    if (!axis_keys.contains(key)) {
      throw ConfigError(fmt::format(
          "{}: reproduces.variant names '{}', which the sweep does not vary; its axes: {}", origin,
          key,
          axis_keys.empty() ? std::string("none") : fmt::format("{}", fmt::join(axis_keys, ", "))));
    }
  }
  std::vector<size_t> judged;
  std::set<std::string> variants;
  for (size_t i = 0; i < plan.runs.size(); ++i) {
    if (!matches(plan.runs[i], target.variant)) continue;
    judged.push_back(i);
    variants.insert(plan.runs[i].variant);
  }
  if (judged.empty()) {
    std::vector<std::string> wanted;
    for (const auto& [key, value] : target.variant)
      wanted.push_back(config::setting_label(key, value));
    throw ConfigError(fmt::format("{}: reproduces.variant ({}) matches no run of the sweep", origin,
                                  fmt::join(wanted, ", ")));
  }
  if (variants.size() > 1) {
    throw ConfigError(fmt::format(
        "{}: the verdict must be about one variant, but {} runs of {} variants match ({}); name "
        "the compared one in reproduces.variant",
        origin, judged.size(), variants.size(), fmt::join(variants, "; ")));
  }
  for (const size_t index : judged) {
    const auto& dataset = plan.runs[index].resolved.config.data.dataset;
    if (dataset != target.dataset) {
      throw ConfigError(
          fmt::format("{}: reproduces.dataset is '{}' but run {} trains on '{}' (data.dataset)",
                      origin, target.dataset, plan.runs[index].run_id(), dataset));
    }
  }
  return judged;
}

}  // namespace cadenza
