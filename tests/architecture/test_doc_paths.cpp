// The how-to sections that list every file a change touches ("Adding a config key" in
// docs/configs.md, "Adding a model variant" in docs/models.md) stay honest: every repository path
// they name in backquotes exists. `{a,b}` alternatives are expanded; a path with a <placeholder>
// names a file to create and is not checked; a path ending in "/" must be a folder.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace cadenza {
namespace {

namespace fs = std::filesystem;

// The text of the section headed `heading` ("## ...") of `page`, up to the next "## " heading.
std::string section(const fs::path& page, const std::string& heading) {
  std::ifstream in(page);
  std::string line, text;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line.starts_with("## ")) {
      if (inside) break;
      inside = line == heading;
      continue;
    }
    if (inside) text += line + "\n";
  }
  return text;
}

// "framework/models/<name>.{hpp,cpp}" -> the two paths; a path without braces -> itself.
std::vector<std::string> expand_braces(const std::string& path) {
  const auto open = path.find('{');
  const auto close = path.find('}', open);
  if (open == std::string::npos || close == std::string::npos) return {path};
  std::vector<std::string> paths;
  std::istringstream choices(path.substr(open + 1, close - open - 1));
  std::string choice;
  while (std::getline(choices, choice, ','))
    paths.push_back(path.substr(0, open) + choice + path.substr(close + 1));
  return paths;
}

// Every repository path in the backquoted spans of `text`.
std::vector<std::string> named_paths(const std::string& text) {
  static const std::regex span("`([^`]+)`");
  static const std::regex path("^(framework|tests|scripts|configs|docs|experiments)/[^ ]*$");
  std::vector<std::string> paths;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), span); it != std::sregex_iterator();
       ++it) {
    const std::string quoted = (*it)[1].str();
    if (!std::regex_match(quoted, path)) continue;
    for (const auto& expanded : expand_braces(quoted))
      paths.push_back(expanded);
  }
  return paths;
}

// The paths of `section_text` that do not exist, one message each.
std::vector<std::string> missing_paths(const std::string& section_text) {
  std::vector<std::string> missing;
  for (const auto& path : named_paths(section_text)) {
    if (path.find('<') != std::string::npos) continue;
    const fs::path full = testing::source_dir() / path;
    const bool ok = path.ends_with("/") ? fs::is_directory(full) : fs::is_regular_file(full);
    if (!ok) missing.push_back(path);
  }
  return missing;
}

struct HowTo {
  const char* page;
  const char* heading;
};

TEST(DocPaths, HowToSectionsNameOnlyFilesThatExist) {
  for (const HowTo how_to : {HowTo{"docs/configs.md", "## Adding a config key"},
                             HowTo{"docs/models.md", "## Adding a model variant"}}) {
    const std::string text = section(testing::source_dir() / how_to.page, how_to.heading);
    ASSERT_FALSE(text.empty()) << how_to.page << " has no section '" << how_to.heading << "'";
    EXPECT_GE(named_paths(text).size(), 5u) << how_to.page << " " << how_to.heading;
    for (const auto& path : missing_paths(text))
      ADD_FAILURE() << how_to.page << " (" << how_to.heading << ") names " << path
                    << ", which does not exist";
  }
}

TEST(DocPaths, AMissingPathIsReported) {
  const auto missing = missing_paths(
      "see `framework/models/build.cpp`, `framework/models/gone.{hpp,cpp}`, "
      "`framework/models/<name>.cpp` and `framework/nn/`");
  EXPECT_EQ(missing,
            (std::vector<std::string>{"framework/models/gone.hpp", "framework/models/gone.cpp"}));
}

}  // namespace
}  // namespace cadenza
