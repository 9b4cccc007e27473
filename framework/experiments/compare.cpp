#include "experiments/compare.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <limits>
#include <set>
#include <tuple>

#include "core/error.hpp"
#include "core/json_text.hpp"

namespace cadenza {
namespace {

using nlohmann::json;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Keys that never define a variant: seed and dataset are the table's other axes; the rest do not
// change what is trained.
bool ignored_key(const std::string& key) {
  return key == "seed" || key == "data.dataset" || key == "data.root" || key == "description" ||
         key.rfind("threads.", 0) == 0;
}

// Test-row fields that are bookkeeping, not metrics.
bool bookkeeping_field(const std::string& key) {
  return key == "epoch" || key == "step" || key == "best_epoch";
}

std::string display_value(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_null()) return "(unset)";
  return value.dump();
}

json value_of(const RunRecord& run, const std::string& key) {
  const auto found = run.config.find(key);
  return found == run.config.end() ? json() : found->second;
}

bool has_config(const RunRecord& run) {
  return !run.config.empty();
}

// Keys (other than the ignored ones) whose value is not the same in every run that has a config;
// a key missing from a config counts as null.
std::vector<std::string> find_varying_keys(const std::vector<RunRecord>& runs) {
  std::set<std::string> keys;
  for (const RunRecord& run : runs) {
    for (const auto& [key, value] : run.config) {
      if (!ignored_key(key)) keys.insert(key);
    }
  }
  std::vector<std::string> varying;
  for (const std::string& key : keys) {
    std::optional<json> first;
    for (const RunRecord& run : runs) {
      if (!has_config(run)) continue;
      const json value = value_of(run, key);
      if (!first) {
        first = value;
      } else if (value != *first) {
        varying.push_back(key);
        break;
      }
    }
  }
  return varying;
}

Variant variant_of(const RunRecord& run, const std::vector<std::string>& varying_keys) {
  Variant variant;
  std::vector<std::string> parts;
  for (const std::string& key : varying_keys) {
    variant.settings.emplace_back(key, value_of(run, key));
    parts.push_back(key + "=" + display_value(variant.settings.back().second));
  }
  variant.label = parts.empty() ? "all runs" : fmt::format("{}", fmt::join(parts, ", "));
  return variant;
}

json parse_override_value(const std::string& text) {
  return parse_json_or_none(text, "override value '" + text + "'", JsonSource::kConfig)
      .value_or(json(text));
}

std::size_t choose_baseline(const std::vector<Variant>& variants,
                            const std::vector<std::string>& varying_keys,
                            const std::vector<std::string>& requests, std::string& rule) {
  if (requests.empty()) {
    rule = "the first variant (the default; choose another with --baseline KEY=VALUE)";
    return 0;
  }
  std::vector<std::size_t> candidates(variants.size());
  for (std::size_t i = 0; i < candidates.size(); ++i)
    candidates[i] = i;
  for (const std::string& request : requests) {
    const auto equals = request.find('=');
    if (equals == std::string::npos || equals == 0) {
      throw UsageError(fmt::format(
          "--baseline '{}': expected KEY=VALUE, e.g. --baseline model.attention=none", request));
    }
    const std::string key = request.substr(0, equals);
    const json value = parse_override_value(request.substr(equals + 1));
    if (varying_keys.empty()) {
      throw UsageError(fmt::format(
          "--baseline '{}': every run has the same config apart from seed and dataset, so there "
          "is one variant and no baseline to choose",
          request));
    }
    const auto key_index = std::find(varying_keys.begin(), varying_keys.end(), key);
    if (key_index == varying_keys.end()) {
      throw UsageError(
          fmt::format("--baseline '{}': '{}' is not a config key that differs between the runs; "
                      "valid keys: {}",
                      request, key, fmt::join(varying_keys, ", ")));
    }
    const auto k = static_cast<std::size_t>(key_index - varying_keys.begin());
    std::vector<std::string> valid_values;
    for (const Variant& variant : variants) {
      const std::string shown = display_value(variant.settings[k].second);
      if (std::find(valid_values.begin(), valid_values.end(), shown) == valid_values.end()) {
        valid_values.push_back(shown);
      }
    }
    std::erase_if(candidates,
                  [&](std::size_t i) { return variants[i].settings[k].second != value; });
    if (candidates.empty()) {
      throw UsageError(
          fmt::format("--baseline '{}': no variant{} has {} = {}; valid values of {}: {}", request,
                      requests.size() > 1 ? " matching the other --baseline settings" : "", key,
                      display_value(value), key, fmt::join(valid_values, ", ")));
    }
  }
  if (candidates.size() > 1) {
    std::vector<std::string> labels;
    for (const std::size_t i : candidates)
      labels.push_back("'" + variants[i].label + "'");
    throw UsageError(fmt::format(
        "--baseline {} matches {} variants ({}); add another --baseline KEY=VALUE to pick one",
        fmt::join(requests, " "), candidates.size(), fmt::join(labels, ", ")));
  }
  rule = fmt::format("--baseline {}", fmt::join(requests, " --baseline "));
  return candidates.front();
}

std::optional<double> metric_value(const RunRecord& run, const std::string& metric) {
  if (metric.rfind(kMusicMetricPrefix, 0) == 0) {
    const auto found = run.music_distances.find(metric.substr(kMusicMetricPrefix.size()));
    if (found == run.music_distances.end()) return std::nullopt;
    return found->second;
  }
  const auto field = run.test->find(metric);
  if (field == run.test->end() || !field->is_number()) return std::nullopt;
  return field->get<double>();
}

// The requested metrics (each checked against what the completed runs logged), then every music
// distance some completed run has.
std::vector<std::string> checked_metrics(const std::vector<std::string>& requested,
                                         const std::vector<const RunRecord*>& usable) {
  if (requested.empty()) throw UsageError("--metrics names no metric; e.g. --metrics nll,acc");
  std::vector<std::string> available, music;
  const auto add_unique = [](std::vector<std::string>& list, const std::string& name) {
    if (std::find(list.begin(), list.end(), name) == list.end()) list.push_back(name);
  };
  for (const RunRecord* run : usable) {
    for (const auto& [key, value] : run->test->items()) {
      if (value.is_number() && !bookkeeping_field(key)) add_unique(available, key);
    }
    for (const auto& [name, value] : run->music_distances) {
      add_unique(available, std::string(kMusicMetricPrefix) + name);
      add_unique(music, std::string(kMusicMetricPrefix) + name);
    }
  }
  std::vector<std::string> metrics;
  for (const std::string& metric : requested) {
    if (!usable.empty() &&
        std::find(available.begin(), available.end(), metric) == available.end()) {
      throw UsageError(fmt::format("--metrics: no completed run logged a test '{}'; available: {}",
                                   metric, fmt::join(available, ", ")));
    }
    add_unique(metrics, metric);
  }
  for (const std::string& metric : music)
    add_unique(metrics, metric);
  return metrics;
}

std::vector<CurvePoint> learning_curve(const std::vector<const RunRecord*>& runs) {
  std::map<int64_t, std::vector<double>> by_epoch;
  for (const RunRecord* run : runs) {
    for (const auto& [epoch, nll] : run->valid_nll)
      by_epoch[epoch].push_back(nll);
  }
  std::vector<CurvePoint> curve;
  for (const auto& [epoch, values] : by_epoch) {
    curve.push_back({epoch, values.size(), stats::mean(values),
                     *std::min_element(values.begin(), values.end()),
                     *std::max_element(values.begin(), values.end())});
  }
  return curve;
}

VariantResult summarize_runs(const std::vector<const RunRecord*>& runs,
                             const std::vector<std::string>& metrics) {
  VariantResult result;
  result.runs = runs.size();
  std::vector<double> best_epochs, seconds;
  for (const RunRecord* run : runs) {
    for (const std::string& metric : metrics) {
      if (const auto value = metric_value(*run, metric)) result.values[metric][run->seed] = *value;
    }
    if (run->best_epoch) best_epochs.push_back(static_cast<double>(*run->best_epoch));
    if (run->train_seconds) seconds.push_back(*run->train_seconds);
    if (run->parameters) {
      result.parameters_min =
          std::min(result.parameters_min.value_or(*run->parameters), *run->parameters);
      result.parameters_max =
          std::max(result.parameters_max.value_or(*run->parameters), *run->parameters);
    }
  }
  for (const std::string& metric : metrics) {
    std::vector<double> values;
    for (const auto& [seed, value] : result.values[metric])
      values.push_back(value);
    result.metrics[metric] = stats::summarize(values);
  }
  result.best_epoch = stats::summarize(best_epochs);
  result.train_seconds = stats::summarize(seconds);
  result.curve = learning_curve(runs);
  return result;
}

PairedDifference pair_with_baseline(std::size_t variant, const std::string& dataset,
                                    const std::string& metric,
                                    const std::map<int64_t, double>& values,
                                    const std::map<int64_t, double>& baseline) {
  PairedDifference difference;
  difference.variant = variant;
  difference.dataset = dataset;
  difference.metric = metric;
  difference.bootstrap = {kNaN, kNaN};
  std::vector<double> ours, theirs;
  for (const auto& [seed, value] : values) {
    const auto match = baseline.find(seed);
    if (match == baseline.end()) continue;
    difference.seeds.push_back(seed);
    ours.push_back(value);
    theirs.push_back(match->second);
  }
  if (ours.empty()) {
    difference.test.mean_difference = difference.test.std_difference = kNaN;
    difference.test.t = difference.test.p_value = kNaN;
    return difference;
  }
  difference.test = stats::paired_t_test(ours, theirs);
  if (ours.size() >= 2) {
    difference.bootstrap = stats::paired_bootstrap_ci(ours, theirs, kBootstrapResamples, 0.95,
                                                      derive_key(kBootstrapSeed));
    difference.significant =
        difference.test.p_value < kSignificanceLevel && !difference.bootstrap.contains(0.0);
  }
  return difference;
}

}  // namespace

bool lower_is_better(const std::string& metric) {
  return metric.find("nll") != std::string::npos || metric.find("loss") != std::string::npos ||
         metric == "perplexity" || metric.rfind(kMusicMetricPrefix, 0) == 0;
}

std::optional<std::size_t> variant_index_of(const Comparison& comparison, const RunRecord& run) {
  if (!has_config(run)) return std::nullopt;
  const Variant variant = variant_of(run, comparison.varying_keys);
  for (std::size_t v = 0; v < comparison.variants.size(); ++v) {
    if (comparison.variants[v].settings == variant.settings) return v;
  }
  return std::nullopt;
}

Comparison compare_runs(const std::vector<RunRecord>& runs, const CompareOptions& options) {
  Comparison comparison;
  comparison.varying_keys = find_varying_keys(runs);
  for (const RunRecord& run : runs) {
    if (!run.selection.empty() &&
        std::find(comparison.selections.begin(), comparison.selections.end(), run.selection) ==
            comparison.selections.end()) {
      comparison.selections.push_back(run.selection);
    }
  }

  std::map<std::string, std::size_t> variant_index;  // the settings' values as JSON -> index
  std::vector<std::size_t> run_variant(runs.size(), 0);
  for (std::size_t r = 0; r < runs.size(); ++r) {
    if (!has_config(runs[r])) continue;
    Variant variant = variant_of(runs[r], comparison.varying_keys);
    json values = json::array();
    for (const auto& [key, value] : variant.settings)
      values.push_back(value);
    const auto [found, inserted] = variant_index.emplace(values.dump(), comparison.variants.size());
    if (inserted) comparison.variants.push_back(std::move(variant));
    run_variant[r] = found->second;
    if (std::find(comparison.datasets.begin(), comparison.datasets.end(), runs[r].dataset) ==
        comparison.datasets.end()) {
      comparison.datasets.push_back(runs[r].dataset);
    }
  }
  if (!comparison.variants.empty()) {
    comparison.baseline = choose_baseline(comparison.variants, comparison.varying_keys,
                                          options.baseline, comparison.baseline_rule);
  }

  // Usable runs by (variant, dataset); the first run of a (variant, dataset, seed) wins.
  std::map<std::pair<std::size_t, std::string>, std::vector<const RunRecord*>> usable;
  std::map<std::tuple<std::size_t, std::string, int64_t>, const RunRecord*> first_of_seed;
  std::vector<const RunRecord*> all_usable;
  for (std::size_t r = 0; r < runs.size(); ++r) {
    const RunRecord& run = runs[r];
    const std::string variant = has_config(run) ? comparison.variants[run_variant[r]].label : "";
    std::string reason = run.problem();
    if (reason.empty()) {
      const auto [previous, inserted] =
          first_of_seed.emplace(std::tuple{run_variant[r], run.dataset, run.seed}, &run);
      if (!inserted) {
        reason = fmt::format("repeats variant, dataset and seed {} of {}", run.seed,
                             previous->second->dir.string());
      }
    }
    if (!reason.empty()) {
      comparison.excluded.push_back({run, variant, reason});
      continue;
    }
    usable[{run_variant[r], run.dataset}].push_back(&run);
    all_usable.push_back(&run);
  }
  comparison.runs_used = all_usable.size();
  const auto is_token_run = [](const RunRecord* run) {
    return run->test && run->test->contains("event_accuracy");
  };
  comparison.token_runs = std::any_of(all_usable.begin(), all_usable.end(), is_token_run);
  const bool only_token_runs =
      !all_usable.empty() && std::all_of(all_usable.begin(), all_usable.end(), is_token_run);
  comparison.metrics = checked_metrics(!options.metrics.empty() ? options.metrics
                                       : only_token_runs        ? kDefaultTokenMetrics
                                                                : kDefaultMetrics,
                                       all_usable);

  for (const auto& [key, group] : usable)
    comparison.results[key] = summarize_runs(group, comparison.metrics);

  for (std::size_t v = 0; v < comparison.variants.size(); ++v) {
    if (v == comparison.baseline) continue;
    for (const std::string& dataset : comparison.datasets) {
      const auto ours = comparison.results.find({v, dataset});
      const auto theirs = comparison.results.find({comparison.baseline, dataset});
      if (ours == comparison.results.end() || theirs == comparison.results.end()) continue;
      for (const std::string& metric : comparison.metrics) {
        comparison.differences.push_back(pair_with_baseline(
            v, dataset, metric, ours->second.values[metric], theirs->second.values[metric]));
      }
    }
  }
  return comparison;
}

}  // namespace cadenza
