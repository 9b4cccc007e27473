#include "config/search.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <tuple>

#include "config/experiment_config.hpp"
#include "config/suggest.hpp"
#include "config/sweep.hpp"

namespace cadenza::config {
namespace {

// More trials than this is almost surely a typo; nobody runs them on one machine.
constexpr int64_t kMaxTrials = 10000;
// More confirmation seeds than this is a typo too: 5 to 10 seeds already give paired tests power.
constexpr int64_t kMaxConfirmSeeds = 100;

const std::vector<std::string> kMembers = {"space",  "trials",    "sampler",     "seed",
                                           "pruner", "objective", "per_variant", "confirm"};
// The valid-split metrics of a run's metrics.jsonl rows; nll is minimised, the others maximised.
const std::vector<std::string> kObjectiveMetrics = {"nll", "acc", "precision", "recall", "f1"};

std::string suggestion(const std::string& name, const std::vector<std::string>& valid) {
  const std::string nearest = nearest_name(name, valid);
  return nearest.empty() ? std::string() : fmt::format(" (did you mean '{}'?)", nearest);
}

void check_members(const Json& object, const std::vector<std::string>& valid,
                   const std::string& where, const std::string& origin) {
  for (const auto& [member, value] : object.items()) {
    if (std::find(valid.begin(), valid.end(), member) != valid.end()) continue;
    throw ConfigError(fmt::format("{}: {}: unknown member '{}'{}; valid: {}", origin, where, member,
                                  suggestion(member, valid), fmt::join(valid, ", ")));
  }
}

// A [low, high] pair of numbers with low <= high (and low > 0 when `positive`).
std::pair<double, double> bounds(const Json& pair, const std::string& kind,
                                 const std::string& where, const std::string& origin,
                                 bool positive) {
  if (!pair.is_array() || pair.size() != 2 || !pair[0].is_number() || !pair[1].is_number()) {
    throw ConfigError(fmt::format("{}: {}: \"{}\" takes two numbers [low, high], got {}", origin,
                                  where, kind, pair.dump()));
  }
  const double low = pair[0].get<double>();
  const double high = pair[1].get<double>();
  if (!(low <= high)) {
    throw ConfigError(fmt::format("{}: {}: \"{}\" bounds {} must satisfy low <= high", origin,
                                  where, kind, pair.dump()));
  }
  if (positive && !(low > 0.0)) {
    throw ConfigError(
        fmt::format("{}: {}: \"{}\" needs bounds above 0 (it samples in log space), got {}", origin,
                    where, kind, pair.dump()));
  }
  return {low, high};
}

// Reads `value` for `key` alone through the schema (types and ranges; combinations of keys are
// checked per trial, search/search_plan.hpp), so a bound or choice outside the key's range fails
// before any trial is drawn.
void check_key_value(const SpaceDimension& dimension, const Json& value,
                     const std::string& origin) {
  std::string pointer = "/" + dimension.key;
  std::replace(pointer.begin(), pointer.end(), '.', '/');
  Json root = Json::object();
  root[Json::json_pointer(pointer)] = value;
  ExperimentConfig config;
  JsonReader reader(root, schema_leaf_paths(),
                    [&](const std::string&) { return std::string("search.space"); });
  try {
    config.visit(reader);
    reader.finish();
  } catch (const ConfigError& e) {
    throw ConfigError(fmt::format("{}: search.space.{} ({}): {} is not a valid value ({})", origin,
                                  dimension.key, describe_dimension(dimension), value.dump(),
                                  e.what()));
  }
}

void check_bounds(const SpaceDimension& dimension, const std::string& origin) {
  std::vector<Json> values = dimension.choices;
  if (dimension.kind == SpaceKind::kInt) {
    values = {static_cast<int64_t>(dimension.low), static_cast<int64_t>(dimension.high)};
  } else if (dimension.kind != SpaceKind::kChoice) {
    values = {dimension.low, dimension.high};
  }
  for (const auto& value : values)
    check_key_value(dimension, value, origin);
}

SpaceDimension parse_dimension(const std::string& key, const Json& spec,
                               const std::string& origin) {
  const std::string where = fmt::format("search.space.{}", key);
  const std::vector<std::string> kinds = {"uniform", "loguniform", "int", "choice"};
  if (!spec.is_object() || spec.empty()) {
    throw ConfigError(fmt::format(
        "{}: {} must be an object with one of {}, e.g. {{\"uniform\": [0.0, 0.5]}}, got {}", origin,
        where, fmt::join(kinds, ", "), spec.dump()));
  }
  std::vector<std::string> named;
  for (const auto& [member, value] : spec.items()) {
    if (std::find(kinds.begin(), kinds.end(), member) != kinds.end()) named.push_back(member);
  }
  if (named.size() != 1) {
    check_members(spec, {"uniform", "loguniform", "int", "choice", "log"}, where, origin);
    throw ConfigError(fmt::format("{}: {} must name exactly one kind of {}, got {}", origin, where,
                                  fmt::join(kinds, ", "), spec.dump()));
  }
  SpaceDimension dimension;
  dimension.key = key;
  const std::string& kind = named.front();
  check_members(spec, kind == "int" ? std::vector<std::string>{"int", "log"} : named, where,
                origin);
  const Json& value = spec[kind];
  if (kind == "choice") {
    dimension.kind = SpaceKind::kChoice;
    if (!value.is_array() || value.empty()) {
      throw ConfigError(fmt::format("{}: {}: \"choice\" takes a non-empty list of values, got {}",
                                    origin, where, value.dump()));
    }
    for (const auto& choice : value) {
      if (!choice.is_primitive() || choice.is_null()) {
        throw ConfigError(
            fmt::format("{}: {}: \"choice\" lists {}, which is not a string, number or boolean",
                        origin, where, choice.dump()));
      }
      if (std::find(dimension.choices.begin(), dimension.choices.end(), choice) !=
          dimension.choices.end()) {
        throw ConfigError(fmt::format("{}: {}: \"choice\" lists {} twice; every value must differ",
                                      origin, where, choice.dump()));
      }
      dimension.choices.push_back(choice);
    }
    return dimension;
  }
  if (kind == "int") {
    dimension.kind = SpaceKind::kInt;
    if (spec.contains("log")) {
      if (!spec["log"].is_boolean()) {
        throw ConfigError(fmt::format("{}: {}: \"log\" must be true or false, got {}", origin,
                                      where, spec["log"].dump()));
      }
      dimension.log = spec["log"].get<bool>();
    }
    std::tie(dimension.low, dimension.high) = bounds(value, kind, where, origin, dimension.log);
    if (std::floor(dimension.low) != dimension.low ||
        std::floor(dimension.high) != dimension.high) {
      throw ConfigError(fmt::format("{}: {}: \"int\" bounds must be integers, got {}", origin,
                                    where, value.dump()));
    }
    return dimension;
  }
  dimension.kind = kind == "uniform" ? SpaceKind::kUniform : SpaceKind::kLogUniform;
  std::tie(dimension.low, dimension.high) =
      bounds(value, kind, where, origin, kind == "loguniform");
  return dimension;
}

void parse_space(const Json& space, const std::string& origin, SearchSpec& spec) {
  if (!space.is_object() || space.empty()) {
    throw ConfigError(
        fmt::format("{}: search.space must be a non-empty object of key -> distribution, e.g. "
                    "{{\"train.optimizer.lr\": {{\"loguniform\": [1e-4, 1e-2]}}}}, got {}",
                    origin, space.dump()));
  }
  const auto leaves = schema_leaf_paths();
  // nlohmann::json keeps object members sorted, so dimension d is the d-th key in sorted order.
  for (const auto& [key, distribution] : space.items()) {
    check_varied_key(key, "search.space", origin, leaves);
    if (key == "seed") {
      throw ConfigError(fmt::format(
          "{}: search.space: 'seed' cannot be searched: a search compares configs trained with "
          "the experiment's seed (tuning the seed only fits noise)",
          origin));
    }
    if (key == "train.epochs") {
      throw ConfigError(fmt::format(
          "{}: search.space: 'train.epochs' cannot be searched: it is the search's budget per "
          "trial (the pruner's last rung)",
          origin));
    }
    spec.space.push_back(parse_dimension(key, distribution, origin));
    check_bounds(spec.space.back(), origin);
  }
}

void parse_pruner(const Json& pruner, const std::string& origin, SearchSpec& spec) {
  if (!pruner.is_object() || !pruner.contains("type") || !pruner["type"].is_string()) {
    throw ConfigError(fmt::format(
        "{}: search.pruner must be an object with a \"type\": \"none\" or \"successive_halving\", "
        "got {}",
        origin, pruner.dump()));
  }
  const std::string type = pruner["type"].get<std::string>();
  if (type == "none") {
    check_members(pruner, {"type"}, "search.pruner", origin);
    spec.pruner = PrunerKind::kNone;
    return;
  }
  if (type != "successive_halving") {
    throw ConfigError(
        fmt::format("{}: search.pruner.type '{}' is not valid{}; valid: none, "
                    "successive_halving",
                    origin, type, suggestion(type, {"none", "successive_halving"})));
  }
  check_members(pruner, {"type", "min_epochs", "eta"}, "search.pruner", origin);
  spec.pruner = PrunerKind::kSuccessiveHalving;
  const auto integer = [&](const char* member, int64_t low, int64_t fallback) {
    if (!pruner.contains(member)) return fallback;
    const Json& value = pruner[member];
    if (!value.is_number_integer() || value.get<int64_t>() < low) {
      throw ConfigError(fmt::format("{}: search.pruner.{} must be an integer >= {}, got {}", origin,
                                    member, low, value.dump()));
    }
    return value.get<int64_t>();
  };
  spec.min_epochs = integer("min_epochs", 1, 1);
  spec.eta = integer("eta", 2, 3);
}

void parse_objective(const Json& objective, const std::string& origin, SearchSpec& spec) {
  const std::string text = objective.is_string() ? objective.get<std::string>() : objective.dump();
  const auto dot = text.find('.');
  const std::string split = dot == std::string::npos ? "" : text.substr(0, dot);
  const std::string metric = dot == std::string::npos ? "" : text.substr(dot + 1);
  if (!objective.is_string() || dot == std::string::npos) {
    throw ConfigError(fmt::format(
        "{}: search.objective must be \"valid.<metric>\" with <metric> one of {}, got {}", origin,
        fmt::join(kObjectiveMetrics, ", "), objective.dump()));
  }
  if (split == "test") {
    throw ConfigError(fmt::format(
        "{}: search.objective '{}' is a test metric, and a search may not select on it: choosing "
        "hyperparameters by test data leaks the test set into the model choice, so the reported "
        "test score is no longer an estimate of unseen data (the RRU paper, Zakovskis et al. "
        "2021, tuned on test NLL this way); use 'valid.{}'",
        origin, text, metric));
  }
  if (split != "valid") {
    throw ConfigError(
        fmt::format("{}: search.objective '{}': a search selects on the valid split only; use "
                    "\"valid.<metric>\" with <metric> one of {}",
                    origin, text, fmt::join(kObjectiveMetrics, ", ")));
  }
  if (std::find(kObjectiveMetrics.begin(), kObjectiveMetrics.end(), metric) ==
      kObjectiveMetrics.end()) {
    throw ConfigError(fmt::format("{}: search.objective '{}': unknown metric '{}'{}; valid: {}",
                                  origin, text, metric, suggestion(metric, kObjectiveMetrics),
                                  fmt::join(kObjectiveMetrics, ", ")));
  }
  spec.objective.metric = metric;
  spec.objective.minimize = metric == "nll";
}

void parse_confirm(const Json& confirm, const std::string& origin, SearchSpec& spec) {
  if (!confirm.is_object() || !confirm.contains("seeds")) {
    throw ConfigError(fmt::format(
        "{}: search.confirm must be an object {{\"seeds\": n}} (the best trial of each variant "
        "is trained again with n fresh seeds), got {}",
        origin, confirm.dump()));
  }
  check_members(confirm, {"seeds"}, "search.confirm", origin);
  const Json& seeds = confirm["seeds"];
  if (!seeds.is_number_integer() || seeds.get<int64_t>() < 1 ||
      seeds.get<int64_t>() > kMaxConfirmSeeds) {
    throw ConfigError(fmt::format("{}: search.confirm.seeds must be an integer in [1, {}], got {}",
                                  origin, kMaxConfirmSeeds, seeds.dump()));
  }
  spec.confirm_seeds = seeds.get<int64_t>();
}

}  // namespace

SearchSpec parse_search(const Json& block, const std::string& origin) {
  if (!block.is_object()) {
    throw ConfigError(
        fmt::format("{}: 'search' must be an object with \"space\" and \"trials\" members, got {}",
                    origin, block.dump()));
  }
  check_members(block, kMembers, "search", origin);
  SearchSpec spec;
  spec.declaration = block;
  for (const char* required : {"space", "trials"}) {
    if (!block.contains(required)) {
      throw ConfigError(fmt::format("{}: search: missing member '{}'", origin, required));
    }
  }
  parse_space(block["space"], origin, spec);
  const Json& trials = block["trials"];
  if (!trials.is_number_integer() || trials.get<int64_t>() < 1 ||
      trials.get<int64_t>() > kMaxTrials) {
    throw ConfigError(fmt::format("{}: search.trials must be an integer in [1, {}], got {}", origin,
                                  kMaxTrials, trials.dump()));
  }
  spec.trials = trials.get<int64_t>();
  if (block.contains("sampler")) {
    const Json& sampler = block["sampler"];
    const std::string name = sampler.is_string() ? sampler.get<std::string>() : sampler.dump();
    if (name != "random" && name != "sobol") {
      throw ConfigError(fmt::format("{}: search.sampler {} is not valid{}; valid: random, sobol",
                                    origin, sampler.dump(), suggestion(name, {"random", "sobol"})));
    }
    spec.sampler = name == "sobol" ? SamplerKind::kSobol : SamplerKind::kRandom;
  }
  if (block.contains("seed")) {
    const Json& seed = block["seed"];
    if (!seed.is_number_unsigned()) {
      throw ConfigError(
          fmt::format("{}: search.seed must be an integer >= 0, got {}", origin, seed.dump()));
    }
    spec.seed = seed.get<uint64_t>();
  }
  if (block.contains("pruner")) parse_pruner(block["pruner"], origin, spec);
  if (block.contains("objective")) parse_objective(block["objective"], origin, spec);
  if (block.contains("per_variant")) {
    if (!block["per_variant"].is_boolean()) {
      throw ConfigError(fmt::format("{}: search.per_variant must be true or false, got {}", origin,
                                    block["per_variant"].dump()));
    }
    spec.per_variant = block["per_variant"].get<bool>();
  }
  if (block.contains("confirm")) parse_confirm(block["confirm"], origin, spec);
  return spec;
}

std::string describe_dimension(const SpaceDimension& dimension) {
  switch (dimension.kind) {
    case SpaceKind::kUniform:
      return fmt::format("uniform [{}, {}]", dimension.low, dimension.high);
    case SpaceKind::kLogUniform:
      return fmt::format("loguniform [{}, {}]", dimension.low, dimension.high);
    case SpaceKind::kInt:
      return fmt::format("int [{}, {}]{}", dimension.low, dimension.high,
                         dimension.log ? " log" : "");
    case SpaceKind::kChoice:
      return fmt::format("choice {}", Json(dimension.choices).dump());
  }
  return "";
}

}  // namespace cadenza::config
