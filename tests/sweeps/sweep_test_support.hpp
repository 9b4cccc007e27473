// Helpers for the sweep tests: run `cadenza sweep` in the foreground or in the background (in its
// own process group, so that a test can SIGKILL the sweep with all its workers), and read what a
// sweep left behind.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "support/background.hpp"
#include "support/process.hpp"
#include "support/wait.hpp"
#include "sweeps/run_state.hpp"
#include "sweeps/sweep_plan.hpp"
#include "train/train_run_support.hpp"

namespace cadenza::testing {

// A scratch experiment extending the shipped experiments/<base>.json with `body` (JSON members,
// comma-led), named `name`.
inline std::filesystem::path experiment_extending(const ScratchDir& dir, const std::string& base,
                                                  const std::string& name,
                                                  const std::string& body) {
  const auto path = dir / (name + ".json");
  std::ofstream(path) << R"({"extends": ")"
                      << (source_dir() / "experiments" / (base + ".json")).string()
                      << R"(", "name": ")" << name << "\"" << body << "}";
  return path;
}

// The last non-empty line of `text`, parsed as JSON (what `cadenza sweep` prints last).
inline nlohmann::json last_json_line(const std::string& text) {
  std::istringstream lines(text);
  std::string line, last;
  while (std::getline(lines, line)) {
    if (!line.empty()) last = line;
  }
  return nlohmann::json::parse(last, nullptr, false);
}

inline size_t count_occurrences(const std::string& text, const std::string& fragment) {
  size_t count = 0;
  for (auto at = text.find(fragment); at != std::string::npos;
       at = text.find(fragment, at + fragment.size())) {
    ++count;
  }
  return count;
}

inline nlohmann::json read_json(const std::filesystem::path& path) {
  return nlohmann::json::parse(slurp(path));
}

// `cadenza ARGS...` started in the background (support/background.hpp).
class BackgroundCadenza : public BackgroundProcess {
 public:
  BackgroundCadenza(const std::vector<std::string>& arguments, const std::filesystem::path& dir,
                    const std::string& label)
      : BackgroundProcess(with_cadenza(arguments), dir, label) {}

 private:
  static std::vector<std::string> with_cadenza(const std::vector<std::string>& arguments) {
    std::vector<std::string> words = {CADENZA_BINARY};
    words.insert(words.end(), arguments.begin(), arguments.end());
    return words;
  }
};

// The newest checkpoint step of every run of the sweep in `folder` (-1: none).
inline std::vector<int64_t> checkpoint_steps(const SweepPlan& plan,
                                             const std::filesystem::path& folder) {
  std::vector<int64_t> steps;
  for (const auto& run : plan.runs)
    steps.push_back(newest_checkpoint_step(folder / run.dir));
  return steps;
}

// Waits until some run of the sweep in `folder` has written a checkpoint newer than `before` and
// is not completed: a real moment in the middle of a run.
inline bool wait_for_progress(const SweepPlan& plan, const std::filesystem::path& folder,
                              const std::vector<int64_t>& before) {
  return wait_until(
      [&] {
        for (size_t i = 0; i < plan.runs.size(); ++i) {
          const std::filesystem::path run_dir = folder / plan.runs[i].dir;
          if (newest_checkpoint_step(run_dir) > before[i] &&
              slurp(run_dir / "manifest.json").find("\"completed\"") == std::string::npos) {
            return true;
          }
        }
        return false;
      },
      std::chrono::seconds(60));
}

}  // namespace cadenza::testing
