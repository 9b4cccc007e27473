// The checkpoints/ folder of a run: keep-last-N ckpt-<step>.h5 files, best.h5, and finding the
// newest checkpoint that loads. One file's format is train/checkpoint_format.hpp.
#pragma once

#include <filesystem>
#include <optional>
#include <vector>

#include "train/checkpoint_format.hpp"

namespace cadenza {

struct LoadedCheckpoint {
  std::filesystem::path path;
  CheckpointContents contents;
};

// The checkpoints/ folder of a run: ckpt-<step>.h5 files, the last `keep_last` of them kept, plus
// best.h5, a hard link to (or, where links fail, a copy of) the checkpoint with the best valid
// nll. Temporary files (".<name>.<pid>.<n>.tmp") are ignored by every listing.
class CheckpointStore {
 public:
  // Creates the folder when needed. Throws ConfigError naming train.checkpoint.keep_last when
  // keep_last < 1.
  CheckpointStore(std::filesystem::path folder, int keep_last);

  // Saves ckpt-<contents.step>.h5 (replacing one of the same step), points best.h5 at it when
  // `is_best`, then deletes the oldest ckpt-*.h5 beyond keep_last. Returns the new file's path.
  std::filesystem::path save(const CheckpointContents& contents, bool is_best);

  // ckpt-<step>.h5 files, oldest (lowest step) first.
  std::vector<std::filesystem::path> list() const;
  std::filesystem::path best_path() const { return folder_ / "best.h5"; }
  const std::filesystem::path& folder() const { return folder_; }

  // The newest checkpoint that loads and verifies; each newer one that does not is skipped with
  // a spdlog warning naming it and the reason. nullopt when there is no checkpoint at all; throws
  // InputError listing every failure when none is valid.
  std::optional<LoadedCheckpoint> load_latest_valid() const;
  // best.h5, validated. Throws InputError when it is absent or invalid.
  CheckpointContents load_best() const;

 private:
  std::filesystem::path folder_;
  int keep_last_;
};

}  // namespace cadenza
