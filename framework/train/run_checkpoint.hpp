// Opening a trained model from the command line's point of view: a run directory (its best
// checkpoint, else its newest valid one) or a checkpoint file, with the resolved config that
// checkpoint embeds and the run directory it belongs to.
#pragma once

#include <filesystem>

#include "config/resolve.hpp"
#include "train/checkpoint_store.hpp"

namespace cadenza {

struct RunCheckpoint {
  LoadedCheckpoint checkpoint;
  config::ResolvedConfig config;  // from the checkpoint's config attribute
  // The run directory holding checkpoints/<file> (it has a manifest.json); empty when the
  // checkpoint lives elsewhere.
  std::filesystem::path run_dir;
};

// Throws UsageError when `target` does not exist or is a folder without checkpoints/, and
// InputError when no checkpoint there is valid or its config is not valid JSON.
RunCheckpoint open_run_checkpoint(const std::filesystem::path& target);

}  // namespace cadenza
