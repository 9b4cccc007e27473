// The architecture cannot rot silently: every `#include "folder/file.hpp"` under framework/ must go
// from a folder to itself or to a folder on a lower line of framework/layers.txt (the order the
// README's architecture section shows). An include upwards, or sideways between two folders of
// one line, fails this test with the file, the line and the rule it breaks; a folder missing from
// the file fails too. A cycle between folders needs at least one such include, so it cannot pass.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace cadenza {
namespace {

namespace fs = std::filesystem;

// Folder name -> its line in layers.txt (0 = the top).
std::map<std::string, int> read_layers(const fs::path& file) {
  std::map<std::string, int> layer_of;
  std::ifstream in(file);
  std::string line;
  int layer = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line.front() == '#') continue;
    std::istringstream words(line);
    std::string folder;
    while (words >> folder)
      layer_of[folder] = layer;
    ++layer;
  }
  return layer_of;
}

// Every breach of the layers under `root` (a framework/ folder), one message each.
std::vector<std::string> layering_violations(const fs::path& root, const fs::path& layers_file) {
  const std::map<std::string, int> layer_of = read_layers(layers_file);
  std::vector<std::string> problems;
  if (layer_of.empty()) problems.push_back(layers_file.string() + " declares no folder");
  for (const auto& folder : fs::directory_iterator(root)) {
    if (folder.is_directory() && !layer_of.contains(folder.path().filename().string())) {
      problems.push_back("framework/" + folder.path().filename().string() + " is not in " +
                         layers_file.filename().string());
    }
  }
  const std::regex include(R"re(^\s*#\s*include\s*"(([a-z0-9_]+)/[^"]+)")re");
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    const auto extension = entry.path().extension();
    if (!entry.is_regular_file() || (extension != ".hpp" && extension != ".cpp")) continue;
    const fs::path relative = fs::relative(entry.path(), root);
    const std::string from = relative.begin()->string();
    if (!layer_of.contains(from)) continue;
    std::ifstream in(entry.path());
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
      ++number;
      std::smatch match;
      if (!std::regex_search(line, match, include)) continue;
      const std::string header = match[1], to = match[2];
      if (to == from) continue;
      const auto target = layer_of.find(to);
      const std::string where = "framework/" + relative.string() + ":" + std::to_string(number);
      if (target == layer_of.end()) {
        problems.push_back(where + " includes from " + to + "/, which is not a declared folder");
      } else if (target->second < layer_of.at(from)) {
        problems.push_back(where + ": " + from + "/ includes \"" + header + "\" from " + to +
                           "/, a higher layer");
      } else if (target->second == layer_of.at(from)) {
        problems.push_back(where + ": " + from + "/ includes from its peer " + to +
                           "/ (folders on one line of layers.txt are independent)");
      }
    }
  }
  return problems;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines)
    text += line + "\n";
  return text;
}

TEST(Layers, FrameworkIncludesOnlyDownwards) {
  const fs::path framework = testing::source_dir() / "framework";
  const auto problems = layering_violations(framework, framework / "layers.txt");
  EXPECT_TRUE(problems.empty()) << joined(problems);
}

// The check itself: a copy of the real tree with one upward include and one sideways include
// added must fail, naming both; the copy without them passes.
TEST(Layers, AnUpwardOrSidewaysIncludeIsCaught) {
  testing::ScratchDir scratch;
  const fs::path copy = scratch / "framework";
  fs::copy(testing::source_dir() / "framework", copy, fs::copy_options::recursive);
  ASSERT_TRUE(layering_violations(copy, copy / "layers.txt").empty());
  std::ofstream(copy / "core" / "errors_upward.hpp") << "#include \"train/trainer.hpp\"\n";
  std::ofstream(copy / "data" / "sideways.cpp") << "#include \"nn/lstm.hpp\"\n";
  const auto problems = layering_violations(copy, copy / "layers.txt");
  ASSERT_EQ(problems.size(), 2u) << joined(problems);
  EXPECT_NE(joined(problems).find("framework/core/errors_upward.hpp:1: core/ includes "
                                  "\"train/trainer.hpp\" from train/, a higher layer"),
            std::string::npos)
      << joined(problems);
  EXPECT_NE(
      joined(problems).find("framework/data/sideways.cpp:1: data/ includes from its peer nn/"),
      std::string::npos)
      << joined(problems);
  fs::create_directories(copy / "newfolder");
  EXPECT_NE(joined(layering_violations(copy, copy / "layers.txt"))
                .find("framework/newfolder is not in layers.txt"),
            std::string::npos);
}

}  // namespace
}  // namespace cadenza
