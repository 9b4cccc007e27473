#include "data/locate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <ranges>

#include "core/error.hpp"
#include "data/mat_import.hpp"

namespace cadenza {
namespace fs = std::filesystem;

const std::vector<std::string>& benchmark_dataset_names() {
  static const std::vector<std::string> names = {"JSB_Chorales", "Nottingham", "MuseData",
                                                 "Piano_midi"};
  return names;
}

const std::vector<ImportedDataset>& imported_dataset_names() {
  static const std::vector<ImportedDataset> names = {
      {"Nottingham_melody",
       "mkdir -p datasets/cache && build/cadenza data import --melody --track 0 "
       "../shared/midi/nottingham --out datasets/cache/Nottingham_melody.h5"}};
  return names;
}

std::vector<SearchRoot> dataset_search_roots(const std::string& config_root) {
  std::vector<SearchRoot> roots;
  if (!config_root.empty()) roots.push_back({config_root, "data.root"});
  if (const char* env = std::getenv("CADENZA_DATA"); env != nullptr && *env != '\0') {
    roots.push_back({env, "$CADENZA_DATA"});
  }
  const fs::path project = CADENZA_PROJECT_DIR;
  roots.push_back({project / ".." / "shared" / "datasets", "../shared/datasets"});
  roots.push_back({project / "datasets" / "cache", "datasets/cache"});
  return roots;
}

fs::path locate_dataset(const std::string& dataset, const std::string& config_root) {
  const auto& names = benchmark_dataset_names();
  const bool is_benchmark = std::find(names.begin(), names.end(), dataset) != names.end();
  const auto& imported = imported_dataset_names();
  const auto import = std::find_if(imported.begin(), imported.end(),
                                   [&](const ImportedDataset& d) { return d.name == dataset; });
  if (import != imported.end()) {
    try {
      return find_in_roots(dataset, dataset_search_roots(config_root));
    } catch (const InputError& e) {
      const std::string what = e.what();
      throw InputError(fmt::format("{}\n(not a benchmark to fetch: {} is imported with\n  {})",
                                   what.substr(0, what.find("\nFetch")), dataset,
                                   import->import_command));
    }
  }
  if (!is_benchmark) {
    const fs::path path = dataset;
    if (path.extension() != ".h5" && path.extension() != ".mat") {
      throw ConfigError(fmt::format(
          "data.dataset = \"{}\" is neither a benchmark name ({}), an imported dataset's name "
          "({}) nor a .h5/.mat file path",
          dataset, fmt::join(names, ", "),
          fmt::join(imported | std::views::transform(&ImportedDataset::name), ", ")));
    }
    if (!fs::exists(path)) {
      throw ConfigError(fmt::format("data.dataset: file {} does not exist", path.string()));
    }
    return path;
  }
  return find_in_roots(dataset, dataset_search_roots(config_root));
}

fs::path find_in_roots(const std::string& dataset, const std::vector<SearchRoot>& roots) {
  std::vector<std::string> looked;
  for (const auto& root : roots) {
    for (const fs::path& relative : {fs::path(dataset + ".h5"), fs::path(dataset + ".mat"),
                                     fs::path("polyphonic") / (dataset + ".h5"),
                                     fs::path("polyphonic") / (dataset + ".mat")}) {
      const fs::path candidate = root.folder / relative;
      if (fs::is_regular_file(candidate)) return candidate.lexically_normal();
      looked.push_back(
          fmt::format("  {} ({})", candidate.lexically_normal().string(), root.origin));
    }
  }
  throw InputError(fmt::format(
      "dataset {} not found. Looked in:\n{}\nFetch the four benchmarks with "
      "scripts/fetch_datasets.sh (into datasets/cache/), or set data.root or $CADENZA_DATA to a "
      "folder holding {}.mat",
      dataset, fmt::join(looked, "\n"), dataset));
}

Dataset load_dataset(const std::string& dataset, const std::string& config_root) {
  const fs::path path = locate_dataset(dataset, config_root);
  if (path.extension() == ".mat") return import_mat(path, path.stem().string());
  if (read_dataset_header(path).info.kind == kTokensKind) {
    return one_hot_dataset(read_token_dataset(path));
  }
  return read_dataset(path);
}

}  // namespace cadenza
