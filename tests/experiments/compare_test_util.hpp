// Test support for compare and the reports: hand-written run directories (config.json,
// manifest.json, metrics.jsonl) holding known numbers, sweep.json files naming them, and the SVG
// documents of a report's HTML checked as XML.
#pragma once

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace cadenza::testing {

struct FakeRun {
  std::string dir_name;  // under the root given to write_fake_run
  nlohmann::json model = {{"type", "lm"}, {"attention", "none"}};
  std::string dataset = "JSB_Chorales";
  int64_t seed = 1;
  std::string status = "completed";
  bool test_row = true;
  double test_nll = 8.5;
  double test_acc = 0.2;
  std::vector<double> valid_nll = {9.0, 8.8, 8.7};
  int64_t best_epoch = 3;
  double epoch_s = 1.0;  // per train row
  double eval_s = 0.25;  // per valid row
};

inline void write_json(const std::filesystem::path& path, const nlohmann::json& value) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << value.dump(2) << "\n";
}

// Writes the run's directory under `root` and returns it. Keys that never define a variant
// (description, data.root, threads.*) differ between seeds on purpose.
inline std::filesystem::path write_fake_run(const std::filesystem::path& root, const FakeRun& run) {
  const std::filesystem::path dir = root / run.dir_name;
  write_json(dir / "config.json",
             {{"name", "fake"},
              {"seed", run.seed},
              {"description", "seed " + std::to_string(run.seed)},
              {"data", {{"dataset", run.dataset}, {"root", "/data/" + std::to_string(run.seed)}}},
              {"model", run.model},
              {"threads", {{"compute", run.seed % 2}, {"loader", 0}}},
              {"train", {{"epochs", 3}}}});
  write_json(dir / "manifest.json",
             {{"run_id", run.dir_name}, {"status", run.status}, {"seed", run.seed}});
  std::ofstream metrics(dir / "metrics.jsonl");
  for (std::size_t e = 0; e < run.valid_nll.size(); ++e) {
    const int64_t epoch = static_cast<int64_t>(e) + 1;
    metrics << nlohmann::json{{"run_id", run.dir_name}, {"epoch", epoch}, {"step", epoch * 10},
                              {"split", "train"},       {"nll", 10.0},    {"epoch_s", run.epoch_s}}
                   .dump()
            << "\n";
    metrics << nlohmann::json{{"run_id", run.dir_name},  {"epoch", epoch},
                              {"step", epoch * 10},      {"split", "valid"},
                              {"nll", run.valid_nll[e]}, {"acc", 0.1},
                              {"eval_s", run.eval_s}}
                   .dump()
            << "\n";
  }
  if (run.test_row) {
    const auto epochs = static_cast<int64_t>(run.valid_nll.size());
    metrics << nlohmann::json{{"run_id", run.dir_name},
                              {"epoch", epochs},
                              {"step", epochs * 10},
                              {"split", "test"},
                              {"nll", run.test_nll},
                              {"acc", run.test_acc},
                              {"f1", 0.3},
                              {"best_epoch", run.best_epoch}}
                   .dump()
            << "\n";
  }
  return dir;
}

// A sweep.json in the format `cadenza sweep` writes, listing `dirs` (relative to `sweep_dir`).
inline void write_sweep_json(const std::filesystem::path& sweep_dir,
                             const std::vector<std::string>& dirs) {
  nlohmann::json runs = nlohmann::json::array();
  for (const std::string& dir : dirs) {
    runs.push_back({{"run_id", std::filesystem::path(dir).filename().string()},
                    {"dir", dir},
                    {"overrides", nlohmann::json::object()},
                    {"variant", "v"},
                    {"seed", 1},
                    {"dataset", "JSB_Chorales"}});
  }
  write_json(sweep_dir / "sweep.json",
             {{"format", "cadenza-sweep"}, {"version", 1}, {"name", "fake"}, {"runs", runs}});
}

// The inline <svg>...</svg> documents of an HTML page, in order.
inline std::vector<std::string> svg_blocks(const std::string& html) {
  std::vector<std::string> blocks;
  for (std::size_t start = html.find("<svg"); start != std::string::npos;
       start = html.find("<svg", start + 1)) {
    const std::size_t end = html.find("</svg>", start);
    if (end == std::string::npos) break;
    blocks.push_back(html.substr(start, end + 6 - start));
  }
  return blocks;
}

// Parses every block with Python's xml.etree; returns the script's exit code and output (the
// number of blocks parsed).
inline CommandResult parse_as_xml(const std::vector<std::string>& blocks) {
  ScratchDir dir;
  std::string files;
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    const std::filesystem::path file = dir / ("figure" + std::to_string(i) + ".svg");
    std::ofstream(file) << blocks[i];
    files += " '" + file.string() + "'";
  }
  return run_shell(
      "/usr/bin/python3 -c 'import sys, xml.etree.ElementTree as ET\n"
      "for f in sys.argv[1:]:\n"
      "    root = ET.parse(f).getroot()\n"
      "    assert root.tag == \"{http://www.w3.org/2000/svg}svg\", root.tag\n"
      "print(len(sys.argv) - 1)'" +
      files);
}

}  // namespace cadenza::testing
