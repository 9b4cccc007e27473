// Finding a dataset on disk. A dataset named in a config (data.dataset) is either a path to a
// .h5/.mat file, one of the benchmark names (JSB_Chorales, Nottingham, MuseData, Piano_midi), or
// the name of a dataset cadenza imports from a MIDI corpus (Nottingham_melody), searched in order
// in:
//   1. data.root (config)            2. $CADENZA_DATA
//   3. <project>/../shared/datasets  4. <project>/datasets/cache (where fetch_datasets.sh puts
//   them)
// Within each folder: NAME.h5, NAME.mat, polyphonic/NAME.h5, polyphonic/NAME.mat.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "data/dataset.hpp"

namespace cadenza {

// The four classic benchmarks.
const std::vector<std::string>& benchmark_dataset_names();

// A dataset made by `cadenza data import` from a corpus, found by name like a benchmark.
struct ImportedDataset {
  std::string name;
  std::string import_command;  // what makes it, into datasets/cache/NAME.h5
};
const std::vector<ImportedDataset>& imported_dataset_names();

// The folders searched, in order, each with a note of where it came from.
struct SearchRoot {
  std::filesystem::path folder;
  std::string origin;  // "data.root", "$CADENZA_DATA", ...
};
std::vector<SearchRoot> dataset_search_roots(const std::string& config_root);

// Looks for a benchmark in `roots`, in order. Throws InputError listing every candidate path.
std::filesystem::path find_in_roots(const std::string& benchmark,
                                    const std::vector<SearchRoot>& roots);

// Returns the dataset file. Throws ConfigError when `dataset` is neither a benchmark name nor the
// path of an existing .h5/.mat file (the config is wrong), and InputError listing every place
// looked at and how to fetch (or import) it when a named dataset is not found (the data is
// missing).
std::filesystem::path locate_dataset(const std::string& dataset, const std::string& config_root);

}  // namespace cadenza

namespace cadenza {

// Locates `dataset` and loads it: a cadenza .h5 piano-roll dataset as it is, a token dataset as
// one-hot rolls (one_hot_dataset), a benchmark .mat through import_mat (named after the file's
// stem).
Dataset load_dataset(const std::string& dataset, const std::string& config_root);

}  // namespace cadenza
