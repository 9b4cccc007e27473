#include "train/run_checkpoint.hpp"

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/json_text.hpp"

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
  const config::Json config_json =
      parse_json_text(run.checkpoint.contents.config_json, path.string() + ": the config attribute",
                      JsonSource::kInput);
  run.config = config::resolve_json(config_json, path.string() + " (config)");
  const fs::path run_dir = path.parent_path().parent_path();
  if (path.parent_path().filename() == "checkpoints" && fs::exists(run_dir / "manifest.json")) {
    run.run_dir = run_dir;
  }
  return run;
}

}  // namespace cadenza
