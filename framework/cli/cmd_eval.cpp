// `cadenza eval RUN_DIR|CHECKPOINT [--split test]`: scores a split with a checkpoint's weights.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "core/atomic_file.hpp"
#include "core/threads.hpp"
#include "data/locate.hpp"
#include "metrics/frame_metrics.hpp"
#include "models/model.hpp"
#include "train/checkpoint_format.hpp"
#include "train/run_checkpoint.hpp"

namespace cadenza::cli {

namespace fs = std::filesystem;

void add_eval_command(CLI::App& app, Action& action) {
  struct Options {
    std::string target;
    std::string split = "test";
  };
  auto options = std::make_shared<Options>();
  CLI::App* command = app.add_subcommand(
      "eval", "Score a split with a run's best checkpoint (or a given checkpoint file)");
  command->add_option("target", options->target, "Run directory or checkpoint .h5 file")
      ->required();
  command->add_option("--split", options->split, "train, valid or test")
      ->check(CLI::IsMember({"train", "valid", "test"}))
      ->capture_default_str();
  command->callback([options, &action] {
    action = [options] {
      const RunCheckpoint opened = open_run_checkpoint(options->target);
      const LoadedCheckpoint& checkpoint = opened.checkpoint;
      const auto& config = opened.config.config;
      ThreadScope scope(resolve_thread_budget(config.threads.compute, 0, available_cores()));
      const Dataset dataset = load_dataset(config.data.dataset, config.data.root);
      auto model = build_model(config.model, frame_width(dataset.info), config.data.context_frames,
                               config.data.target_frames, frame_output(dataset.info));
      restore_parameters(checkpoint.contents.params, model->parameters(), checkpoint.path.string());
      model->set_training(false);
      FrameMetrics metrics(model->frame_output());
      model->evaluate(dataset.splits[static_cast<size_t>(split_index(options->split))],
                      config.data.eval_batch_size,
                      [&metrics](const Tensor& logits, const Tensor& targets, const Tensor& mask) {
                        metrics.add(logits, targets, mask);
                      });
      nlohmann::json result = metrics.to_json();
      result["split"] = options->split;
      result["checkpoint"] = checkpoint.path.string();
      result["epoch"] = checkpoint.contents.epoch;
      result["step"] = checkpoint.contents.step;
      result["run_id"] = checkpoint.contents.run_id;
      const fs::path out =
          !opened.run_dir.empty()
              ? opened.run_dir / fmt::format("eval-{}.json", options->split)
              : fs::path(checkpoint.path.string() + fmt::format(".eval-{}.json", options->split));
      write_file_atomic(out, result.dump(2) + "\n");
      std::cout << result.dump() << "\n";
      if (model->frame_output() == FrameOutput::kCategorical) {
        fmt::print(stderr,
                   "{} nll {:.4f} perplexity {:.3f} acc {:.4f} event_accuracy {:.4f} "
                   "no_event_accuracy {:.4f} ({} events); written to {}\n",
                   options->split, metrics.nll(), metrics.perplexity(), metrics.accuracy(),
                   metrics.event_accuracy(), metrics.no_event_accuracy(), metrics.frames(),
                   out.string());
      } else {
        fmt::print(stderr,
                   "{} nll {:.4f} acc {:.4f} precision {:.4f} recall {:.4f} f1 {:.4f} ({} "
                   "frames); written to {}\n",
                   options->split, metrics.nll(), metrics.accuracy(), metrics.precision(),
                   metrics.recall(), metrics.f1(), metrics.frames(), out.string());
      }
      return 0;
    };
  });
}

}  // namespace cadenza::cli
