#include "train/run_checkpoint.hpp"

#include <fmt/format.h>

#include "core/error.hpp"

namespace cadenza {
namespace {

namespace fs = std::filesystem;

LoadedCheckpoint load_target(const fs::path& target) {
  if (fs::is_directory(target)) {
    const fs::path folder = target / "checkpoints";
    if (!fs::is_directory(folder)) {
      throw UsageError(fmt::format(
          "{} is a folder without checkpoints/; pass a run directory or a checkpoint .h5 file",
          target.string()));
    }
    if (fs::exists(folder / "best.h5"))
      return {folder / "best.h5", load_checkpoint(folder / "best.h5")};
    CheckpointStore store(folder, 1);
    auto latest = store.load_latest_valid();
    if (!latest) throw InputError(fmt::format("{} holds no checkpoint yet", folder.string()));
    return std::move(*latest);
  }
  if (!fs::exists(target)) {
    throw UsageError(fmt::format("{} does not exist; pass a run directory or a checkpoint .h5 file",
                                 target.string()));
  }
  return {target, load_checkpoint(target)};
}

}  // namespace

RunCheckpoint open_run_checkpoint(const fs::path& target) {
  RunCheckpoint run;
  run.checkpoint = load_target(target);
  const fs::path& path = run.checkpoint.path;
  config::Json config_json;
  try {
    config_json = config::Json::parse(run.checkpoint.contents.config_json);
  } catch (const config::Json::parse_error& e) {
    throw InputError(
        fmt::format("{}: the config attribute is not JSON: {}", path.string(), e.what()));
  }
  run.config = config::resolve_json(config_json, path.string() + " (config)");
  const fs::path run_dir = path.parent_path().parent_path();
  if (path.parent_path().filename() == "checkpoints" && fs::exists(run_dir / "manifest.json")) {
    run.run_dir = run_dir;
  }
  return run;
}

}  // namespace cadenza
