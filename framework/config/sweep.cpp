#include "config/sweep.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "config/resolve.hpp"
#include "config/suggest.hpp"

namespace cadenza::config {
namespace {

// A larger sweep is almost surely a typo in a list; nobody runs it on one machine.
constexpr size_t kMaxRuns = 100000;

}  // namespace

std::vector<std::string> schema_leaf_paths() {
  std::vector<std::string> paths;
  for (const auto& key : schema_keys())
    paths.push_back(key.path);
  return paths;
}

namespace {

// A grid axis's values must differ (`distinct`); a zip group's column may repeat a value, its
// settings (rows) must differ.
std::vector<Json> check_values(const Json& list, const std::string& key, const std::string& where,
                               const std::string& origin, bool distinct) {
  if (!list.is_array() || list.empty()) {
    throw ConfigError(fmt::format("{}: {}: '{}' must be a non-empty list of values, got {}", origin,
                                  where, key, list.dump()));
  }
  std::vector<Json> values;
  for (const auto& value : list) {
    if (!value.is_primitive() || value.is_null()) {
      throw ConfigError(fmt::format(
          "{}: {}: '{}' lists {}, which is not a string, number or boolean (sweep the keys of a "
          "section one by one)",
          origin, where, key, value.dump()));
    }
    if (distinct && std::find(values.begin(), values.end(), value) != values.end()) {
      throw ConfigError(fmt::format("{}: {}: '{}' lists {} twice; every value must differ", origin,
                                    where, key, value.dump()));
    }
    values.push_back(value);
  }
  return values;
}

SweepAxis grid_axis(const std::string& key, const Json& list, const std::string& origin,
                    const std::vector<std::string>& leaves) {
  check_varied_key(key, "sweep.grid", origin, leaves);
  SweepAxis axis;
  axis.keys = {key};
  for (auto& value : check_values(list, key, "sweep.grid", origin, true))
    axis.settings.push_back({std::move(value)});
  return axis;
}

SweepAxis zip_axis(const Json& group, size_t index, const std::string& origin,
                   const std::vector<std::string>& leaves) {
  const std::string where = fmt::format("sweep.zip[{}]", index);
  if (!group.is_object() || group.empty()) {
    throw ConfigError(fmt::format(
        "{}: {} must be a non-empty object of equal-length lists, e.g. {{\"model.layers\": [1, 2], "
        "\"model.hidden_size\": [64, 128]}}, got {}",
        origin, where, group.dump()));
  }
  SweepAxis axis;
  std::vector<std::vector<Json>> columns;
  for (const auto& [key, list] : group.items()) {
    check_varied_key(key, where, origin, leaves);
    auto values = check_values(list, key, where, origin, false);
    if (!columns.empty() && values.size() != columns.front().size()) {
      throw ConfigError(fmt::format(
          "{}: {}: the lists of a zip group must have equal lengths; '{}' has {} values, '{}' "
          "has {}",
          origin, where, axis.keys.front(), columns.front().size(), key, values.size()));
    }
    axis.keys.push_back(key);
    columns.push_back(std::move(values));
  }
  for (size_t i = 0; i < columns.front().size(); ++i) {
    std::vector<Json> setting;
    for (const auto& column : columns)
      setting.push_back(column[i]);
    if (std::find(axis.settings.begin(), axis.settings.end(), setting) != axis.settings.end()) {
      throw ConfigError(fmt::format("{}: {}: setting {} ({}) repeats an earlier one", origin, where,
                                    i + 1, Json(setting).dump()));
    }
    axis.settings.push_back(std::move(setting));
  }
  return axis;
}

}  // namespace

void check_varied_key(const std::string& key, const std::string& where, const std::string& origin,
                      const std::vector<std::string>& leaves) {
  if (key == "name") {
    throw ConfigError(fmt::format(
        "{}: {}: key 'name' cannot be varied: the runs of a sweep or search share the "
        "experiment's name (their folder under results/sweeps/<name>/ or results/searches/<name>/)",
        origin, where));
  }
  if (std::find(leaves.begin(), leaves.end(), key) != leaves.end()) return;
  std::vector<std::string> inside;
  for (const auto& leaf : leaves) {
    if (leaf.starts_with(key + ".")) inside.push_back(leaf);
  }
  if (!inside.empty()) {
    throw ConfigError(fmt::format("{}: {}: '{}' is a section, not a key; sweep its keys ({})",
                                  origin, where, key, fmt::join(inside, ", ")));
  }
  const std::string nearest = nearest_name(key, leaves);
  throw ConfigError(fmt::format("{}: {}: unknown key '{}'{}", origin, where, key,
                                nearest.empty()
                                    ? std::string(" (`cadenza config --explain` lists every key)")
                                    : fmt::format(" (did you mean '{}'?)", nearest)));
}

size_t SweepSpec::run_count() const {
  size_t count = 1;
  for (const auto& axis : axes)
    count *= axis.settings.size();
  return count;
}

SweepSpec parse_sweep(const Json& block, const std::string& origin) {
  if (!block.is_object()) {
    throw ConfigError(
        fmt::format("{}: 'sweep' must be an object with \"grid\" and/or \"zip\" members, got {}",
                    origin, block.dump()));
  }
  const std::vector<std::string> members = {"grid", "zip"};
  for (const auto& [member, value] : block.items()) {
    if (std::find(members.begin(), members.end(), member) != members.end()) continue;
    const std::string nearest = nearest_name(member, members);
    throw ConfigError(
        fmt::format("{}: sweep: unknown member '{}'{}; valid: grid, zip", origin, member,
                    nearest.empty() ? "" : fmt::format(" (did you mean '{}'?)", nearest)));
  }
  const auto leaves = schema_leaf_paths();
  SweepSpec spec;
  spec.declaration = block;
  std::vector<SweepAxis> seed_axis;
  std::map<std::string, std::string> axis_of_key;  // key -> where it varies
  const auto claim_keys = [&](const SweepAxis& axis, const std::string& where) {
    for (const auto& key : axis.keys) {
      const auto [it, inserted] = axis_of_key.emplace(key, where);
      if (!inserted) {
        throw ConfigError(fmt::format(
            "{}: sweep: key '{}' varies on two axes ({} and {}); a key may vary along one axis "
            "only",
            origin, key, it->second, where));
      }
    }
  };
  if (block.contains("grid")) {
    const Json& grid = block["grid"];
    if (!grid.is_object() || grid.empty()) {
      throw ConfigError(
          fmt::format("{}: sweep.grid must be a non-empty object of key -> list of values, e.g. "
                      "{{\"seed\": [1, 2, 3]}}, got {}",
                      origin, grid.dump()));
    }
    for (const auto& [key, list] : grid.items()) {
      SweepAxis axis = grid_axis(key, list, origin, leaves);
      claim_keys(axis, "sweep.grid");
      (key == "seed" ? seed_axis : spec.axes).push_back(std::move(axis));
    }
  }
  if (block.contains("zip")) {
    const Json& zip = block["zip"];
    if (!zip.is_array() || zip.empty()) {
      throw ConfigError(fmt::format(
          "{}: sweep.zip must be a non-empty list of groups, each an object of equal-length "
          "lists, got {}",
          origin, zip.dump()));
    }
    for (size_t i = 0; i < zip.size(); ++i) {
      SweepAxis axis = zip_axis(zip[i], i, origin, leaves);
      claim_keys(axis, fmt::format("sweep.zip[{}]", i));
      spec.axes.push_back(std::move(axis));
    }
  }
  for (auto& axis : seed_axis)
    spec.axes.push_back(std::move(axis));
  if (spec.axes.empty()) {
    throw ConfigError(fmt::format(
        "{}: 'sweep' declares no axes; give \"grid\" and/or \"zip\" lists (or remove the block)",
        origin));
  }
  size_t count = 1;
  for (const auto& axis : spec.axes) {
    count *= axis.settings.size();
    if (count > kMaxRuns) {
      throw ConfigError(fmt::format("{}: 'sweep' expands to more than {} runs; shorten its lists",
                                    origin, kMaxRuns));
    }
  }
  return spec;
}

std::vector<SweepPoint> expand_sweep(const SweepSpec& spec) {
  std::vector<SweepPoint> points;
  std::vector<size_t> position(spec.axes.size(), 0);
  const size_t count = spec.run_count();
  for (size_t run = 0; run < count; ++run) {
    SweepPoint point;
    for (size_t a = 0; a < spec.axes.size(); ++a) {
      const auto& axis = spec.axes[a];
      for (size_t k = 0; k < axis.keys.size(); ++k)
        point.emplace_back(axis.keys[k], axis.settings[position[a]][k]);
    }
    points.push_back(std::move(point));
    for (size_t a = spec.axes.size(); a-- > 0;) {
      if (++position[a] < spec.axes[a].settings.size()) break;
      position[a] = 0;
    }
  }
  return points;
}

std::string override_text(const std::string& key, const Json& value) {
  return key + "=" + value.dump();
}

std::string setting_label(const std::string& key, const Json& value) {
  return key + "=" + (value.is_string() ? value.get<std::string>() : value.dump());
}

}  // namespace cadenza::config
