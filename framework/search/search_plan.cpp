#include "search/search_plan.hpp"

#include <fmt/format.h>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "search/search_sampler.hpp"
#include "search/successive_halving.hpp"

namespace cadenza {
namespace fs = std::filesystem;

namespace {

std::string settings_label(const config::SweepPoint& settings) {
  return settings.empty() ? std::string("base") : values_label(settings);
}

std::vector<std::string> override_args(const config::SweepPoint& settings,
                                       const config::SweepPoint& values) {
  std::vector<std::string> args;
  for (const auto& [key, value] : settings)
    args.push_back(config::override_text(key, value));
  for (const auto& [key, value] : values)
    args.push_back(config::override_text(key, value));
  return args;
}

// The variants' settings: the sweep's points (per_variant), or one empty setting.
std::vector<config::SweepPoint> variant_settings(const config::Json& merged,
                                                 const config::SearchSpec& spec,
                                                 const std::string& origin) {
  if (!merged.contains("sweep")) return {{}};
  if (!spec.per_variant) {
    throw ConfigError(fmt::format(
        "{}: the experiment has both 'sweep' and 'search' blocks: set \"per_variant\": true in "
        "'search' for one search per variant of the sweep, or search the axes' keys as "
        "\"choice\" dimensions of search.space instead",
        origin));
  }
  const config::SweepSpec sweep = config::parse_sweep(merged["sweep"], origin);
  for (const auto& axis : sweep.axes) {
    for (const auto& key : axis.keys) {
      if (key == "seed") {
        throw ConfigError(fmt::format(
            "{}: sweep: a 'seed' axis cannot make variants of a search: every trial trains with "
            "the experiment's seed; remove the axis",
            origin));
      }
      for (const auto& dimension : spec.space) {
        if (dimension.key == key) {
          throw ConfigError(fmt::format(
              "{}: '{}' is both a sweep axis and a search.space key; a key is either a variant "
              "setting or searched, not both",
              origin, key));
        }
      }
    }
  }
  return config::expand_sweep(sweep);
}

}  // namespace

std::string values_label(const config::SweepPoint& values) {
  std::vector<std::string> parts;
  for (const auto& [key, value] : values)
    parts.push_back(config::setting_label(key, value));
  return fmt::format("{}", fmt::join(parts, ", "));
}

SearchPlan plan_search(const fs::path& experiment) {
  const config::Json merged = config::load_experiment(experiment);
  const std::string origin = experiment.string();
  if (!merged.contains("search")) {
    throw ConfigError(fmt::format(
        "{}: no 'search' block; `cadenza search` needs one (docs/search.md), `cadenza sweep` "
        "runs a sweep",
        origin));
  }
  SearchPlan plan;
  plan.spec = config::parse_search(merged["search"], origin);
  plan.runs.experiment = experiment;
  plan.runs.axes = plan.spec.declaration;
  std::vector<config::SweepPoint> values;
  for (int64_t k = 0; k < plan.spec.trials; ++k)
    values.push_back(trial_values(plan.spec, static_cast<uint64_t>(k)));
  for (auto& settings : variant_settings(merged, plan.spec, origin)) {
    SearchVariant variant;
    variant.label = settings_label(settings);
    variant.settings = std::move(settings);
    for (int64_t k = 0; k < plan.spec.trials; ++k) {
      PlannedRun run;
      run.override_args = override_args(variant.settings, values[static_cast<size_t>(k)]);
      try {
        run.resolved = config::resolve_experiment(experiment, run.override_args);
      } catch (const ConfigError& e) {
        throw ConfigError(fmt::format("{}: search trial {} of {} (variant {}; {}): {}", origin, k,
                                      plan.spec.trials, variant.label,
                                      values_label(values[static_cast<size_t>(k)]), e.what()));
      }
      run.overrides = variant.settings;
      run.overrides.insert(run.overrides.end(), values[static_cast<size_t>(k)].begin(),
                           values[static_cast<size_t>(k)].end());
      run.variant = variant.label;
      run.dir = fs::path("runs") / run.resolved.config.name / run.resolved.run_id;
      if (k == 0) {
        try {
          variant.rungs = rung_epochs(plan.spec, run.resolved.config.train.epochs);
        } catch (const ConfigError& e) {
          throw ConfigError(fmt::format("{}: variant {}: {}", origin, variant.label, e.what()));
        }
      }
      variant.trials.push_back(plan.trials.size());
      plan.trials.push_back(
          {plan.variants.size(), k, values[static_cast<size_t>(k)], plan.runs.runs.size()});
      plan.runs.runs.push_back(std::move(run));
    }
    plan.variants.push_back(std::move(variant));
  }
  plan.runs.name = plan.runs.runs.front().resolved.config.name;
  return plan;
}

fs::path search_folder(const SearchPlan& plan, const fs::path& searches_dir) {
  return searches_dir / plan.runs.name;
}

void write_search_document(const SearchPlan& plan, const fs::path& folder) {
  nlohmann::json variants = nlohmann::json::array();
  for (const auto& variant : plan.variants) {
    nlohmann::json settings = nlohmann::json::object();
    for (const auto& [key, value] : variant.settings)
      settings[key] = value;
    nlohmann::json trials = nlohmann::json::array();
    for (const size_t index : variant.trials) {
      const SearchTrial& trial = plan.trials[index];
      nlohmann::json values = nlohmann::json::object();
      for (const auto& [key, value] : trial.values)
        values[key] = value;
      trials.push_back({{"trial", trial.number},
                        {"run_id", plan.run_of(trial).run_id()},
                        {"dir", plan.run_of(trial).dir.generic_string()},
                        {"values", values}});
    }
    variants.push_back({{"variant", variant.label},
                        {"settings", settings},
                        {"rungs", variant.rungs},
                        {"trials", trials}});
  }
  const nlohmann::json document = {
      {"format", "cadenza-search"},      {"version", 1},
      {"name", plan.runs.name},          {"experiment", plan.runs.experiment.generic_string()},
      {"search", plan.spec.declaration}, {"variants", variants}};
  fs::create_directories(folder);
  write_file_atomic(folder / "search.json", document.dump(2) + "\n");
}

}  // namespace cadenza
