#include "train/checkpoint_store.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>

#include "core/atomic_file.hpp"
#include "core/error.hpp"

namespace cadenza {
namespace {

namespace fs = std::filesystem;

// Step of a "ckpt-<step>.h5" file name, or -1 for any other name.
int64_t checkpoint_step(const std::string& file_name) {
  constexpr std::string_view kPrefix = "ckpt-", kSuffix = ".h5";
  if (!file_name.starts_with(kPrefix) || !file_name.ends_with(kSuffix)) return -1;
  const std::string digits =
      file_name.substr(kPrefix.size(), file_name.size() - kPrefix.size() - kSuffix.size());
  if (digits.empty() || digits.size() > 18 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return -1;
  }
  return std::stoll(digits);
}

}  // namespace

CheckpointStore::CheckpointStore(fs::path folder, int keep_last)
    : folder_(std::move(folder)), keep_last_(keep_last) {
  if (keep_last < 1) {
    throw ConfigError(fmt::format("train.checkpoint.keep_last: {} must be >= 1", keep_last));
  }
  fs::create_directories(folder_);
}

fs::path CheckpointStore::save(const CheckpointContents& contents, bool is_best) {
  const fs::path path = folder_ / fmt::format("ckpt-{}.h5", contents.step);
  if (is_best) {
    // best.h5 before ckpt-<step>.h5: a run killed in between resumes from its previous
    // checkpoint and writes both again. The other order would resume from this checkpoint with
    // an older best.h5, whose weights the final test would then load.
    save_checkpoint(best_path(), contents);
    const fs::path temp = temp_path_for(path);
    std::error_code link_error;
    fs::create_hard_link(best_path(), temp, link_error);
    if (link_error) fs::copy_file(best_path(), temp, fs::copy_options::overwrite_existing);
    commit_atomic(temp, path);
  } else {
    save_checkpoint(path, contents);
  }
  std::vector<fs::path> older = list();
  std::erase(older, path);
  const auto keep_older = static_cast<std::size_t>(keep_last_ - 1);
  for (std::size_t i = 0; i + keep_older < older.size(); ++i)
    fs::remove(older[i]);
  return path;
}

std::vector<fs::path> CheckpointStore::list() const {
  std::vector<std::pair<int64_t, fs::path>> found;
  for (const fs::directory_entry& entry : fs::directory_iterator(folder_)) {
    const int64_t step = checkpoint_step(entry.path().filename().string());
    if (step >= 0 && entry.is_regular_file()) found.emplace_back(step, entry.path());
  }
  std::sort(found.begin(), found.end());
  std::vector<fs::path> paths;
  for (auto& [step, path] : found)
    paths.push_back(std::move(path));
  return paths;
}

std::optional<LoadedCheckpoint> CheckpointStore::load_latest_valid() const {
  const std::vector<fs::path> paths = list();
  std::string failures;
  for (auto it = paths.rbegin(); it != paths.rend(); ++it) {
    try {
      return LoadedCheckpoint{*it, load_checkpoint(*it)};
    } catch (const InputError& e) {
      spdlog::warn("skipping unusable checkpoint: {}{}", e.what(),
                   std::next(it) != paths.rend() ? "; trying an earlier one" : "");
      failures += fmt::format("\n  {}", e.what());
    }
  }
  if (paths.empty()) return std::nullopt;
  throw InputError(
      fmt::format("no valid checkpoint in {} (each failed):{}", folder_.string(), failures));
}

CheckpointContents CheckpointStore::load_best() const {
  return load_checkpoint(best_path());
}

}  // namespace cadenza
