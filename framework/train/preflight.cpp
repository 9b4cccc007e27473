#include "train/preflight.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.hpp"
#include "core/resources.hpp"
#include "data/locate.hpp"

namespace cadenza {
namespace {

int64_t longest_sequence(const SplitRolls& split) {
  int64_t longest = 0;
  for (int64_t s = 0; s < split.sequences(); ++s)
    longest = std::max(longest, split.length(s));
  return longest;
}

FrameCounts frame_counts(const config::ExperimentConfig& config, const Dataset& dataset) {
  FrameCounts frames;
  const auto& data = config.data;
  const int64_t segment = int64_t{data.context_frames} + data.target_frames;
  if (data.framing == "window") {
    frames.longest_train = data.window;
  } else if (data.framing == "segments") {
    frames.longest_train = segment;
  } else {
    frames.longest_train = longest_sequence(dataset.splits[0]);
  }
  frames.longest_eval =
      config.model.type == config::ModelType::seq2seq
          ? segment
          : std::max(longest_sequence(dataset.splits[1]), longest_sequence(dataset.splits[2]));
  for (const SplitRolls& split : dataset.splits)
    frames.dataset_cells += static_cast<int64_t>(split.cells.size());
  return frames;
}

}  // namespace

Dataset load_run_dataset(const config::ResolvedConfig& resolved) {
  const auto& data = resolved.config.data;
  try {
    return load_dataset(data.dataset, data.root);
  } catch (const ConfigError& e) {
    throw ConfigError(fmt::format("{}: {}", resolved.source.string(), e.what()));
  }
}

RunSize size_run(const config::ExperimentConfig& config, const Dataset& dataset) {
  const int pitches = frame_width(dataset.info);
  RunSize size;
  size.parameters = parameter_count(config.model, pitches);
  size.memory = estimate_training_memory(config, pitches, frame_counts(config, dataset));
  size.checkpoint_bytes = cadenza::checkpoint_bytes(config, pitches);
  return size;
}

RunSize check_run_can_start(const config::ResolvedConfig& resolved, const Dataset& dataset,
                            const std::filesystem::path& run_dir) {
  const config::ExperimentConfig& config = resolved.config;
  const RunSize size = size_run(config, dataset);
  const int64_t available = available_memory_bytes();
  if (size.memory.total() > available) {
    throw ConfigError(fmt::format(
        "{}: this run needs an estimated {} of memory to train ({} parameters: {} with gradients "
        "and optimiser state; activations of the largest batch: {}; dataset and libraries: {}), "
        "but {} is available. Lower model.hidden_size ({}), model.layers ({}), data.batch_size "
        "({}) or data.eval_batch_size ({})",
        resolved.source.empty() ? config.name : resolved.source.string(),
        format_bytes(size.memory.total()), size.parameters, format_bytes(size.memory.parameters),
        format_bytes(size.memory.activations), format_bytes(size.memory.fixed),
        format_bytes(available), config.model.hidden_size, config.model.layers,
        config.data.batch_size, config.data.eval_batch_size));
  }
  require_writable(run_dir, "the run's folder");
  const int64_t needed = 2 * size.checkpoint_bytes;
  const int64_t free = free_disk_bytes(run_dir);
  if (needed > free) {
    throw Error(fmt::format(
        "the run's folder {} has {} free, but two checkpoints of this model need {} (a new one is "
        "written before the oldest is deleted); free some space or pass --runs-dir",
        run_dir.string(), format_bytes(free), format_bytes(needed)));
  }
  return size;
}

}  // namespace cadenza
