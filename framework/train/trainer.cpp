#include "train/trainer.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <utility>

#include "core/error.hpp"
#include "core/interrupt.hpp"
#include "core/stats.hpp"
#include "data/loader.hpp"
#include "data/melody.hpp"
#include "metrics/frame_metrics.hpp"
#include "models/model.hpp"
#include "train/checkpoint_format.hpp"
#include "train/checkpoint_store.hpp"
#include "train/data_parallel.hpp"
#include "train/early_stopping.hpp"
#include "train/optimizer.hpp"
#include "train/schedule.hpp"

namespace cadenza {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Fault injection for the tests of train.nan_guard (docs/training.md, "Testing the NaN guard"):
// CADENZA_INJECT_NAN="STEP:COUNT" makes the loss of update STEP read as NaN the first COUNT times
// the run reaches it. Unset, nothing is injected.
struct InjectedNan {
  int64_t step = -1;
  int remaining = 0;

  static InjectedNan from_environment() {
    InjectedNan injected;
    const char* text = std::getenv("CADENZA_INJECT_NAN");
    if (text == nullptr) return injected;
    long long step = -1;
    int count = 0;
    if (std::sscanf(text, "%lld:%d", &step, &count) != 2 || step < 0 || count < 1) {
      throw UsageError(fmt::format(
          "CADENZA_INJECT_NAN = \"{}\" must be STEP:COUNT with STEP >= 0 and COUNT >= 1", text));
    }
    injected.step = step;
    injected.remaining = count;
    return injected;
  }

  // True when the loss of update `update` is to be replaced by NaN (uses up one injection).
  bool fires_at(int64_t update) {
    if (update != step || remaining == 0) return false;
    --remaining;
    return true;
  }
};

// Fault injection for the kill-safety test of the end of an epoch (docs/training.md, "Testing
// kill-safety"): CADENZA_INJECT_KILL=EPOCH makes the run SIGKILL itself at the end of epoch EPOCH,
// after its checkpoint is written and before metrics.jsonl gets the epoch's rows. Unset, nothing
// is injected.
struct InjectedKill {
  int64_t epoch = -1;

  static InjectedKill from_environment() {
    InjectedKill injected;
    const char* text = std::getenv("CADENZA_INJECT_KILL");
    if (text == nullptr) return injected;
    long long epoch = -1;
    char extra = 0;
    if (std::sscanf(text, "%lld%c", &epoch, &extra) != 1 || epoch < 1) {
      throw UsageError(fmt::format("CADENZA_INJECT_KILL = \"{}\" must be an EPOCH >= 1", text));
    }
    injected.epoch = epoch;
    return injected;
  }

  void fire_at(int64_t ended_epoch) const {
    if (ended_epoch == epoch) ::raise(SIGKILL);
  }
};

// The loader of a config's training split; `info` says whether its frames are one-hot tokens, whose
// NO_EVENT and NOTE_OFF columns transposition leaves in place.
LoaderOptions loader_options(const config::ExperimentConfig& config, int loader_threads,
                             const DatasetInfo& info) {
  LoaderOptions options;
  options.framing = parse_framing(config.data.framing);
  options.batch_size = config.data.batch_size;
  options.window = config.data.window;
  options.stride = config.data.stride;
  options.context_frames = config.data.context_frames;
  options.target_frames = config.data.target_frames;
  options.max_transpose = config.data.max_transpose;
  options.shuffle = config.data.shuffle;
  options.seed = static_cast<uint64_t>(config.seed);
  options.threads = loader_threads;
  options.prefetch = config.data.prefetch;
  if (info.kind == kTokensKind) options.fixed_columns = kFirstNoteOn;
  return options;
}

// The train row's sums over the steps of the epoch so far. A checkpoint taken in the middle of
// an epoch (on a signal) saves them, so that the resumed epoch logs the same row as an
// uninterrupted one; the wall-clock fields cover only the steps after the resume.
struct EpochProgress {
  FrameMetrics metrics;
  int64_t steps = 0;
  double frames = 0.0;
  double norm_sum = 0.0;

  nlohmann::json to_json() const {
    return {{"steps", steps},
            {"frames", frames},
            {"norm_sum", norm_sum},
            {"metric_frames", metrics.frames()},
            {"nll_sum", metrics.nll_sum()},
            {"tp", metrics.true_positives()},
            {"fp", metrics.false_positives()},
            {"fn", metrics.false_negatives()},
            {"correct", metrics.totals().correct},
            {"event_frames", metrics.totals().event_frames},
            {"event_correct", metrics.totals().event_correct}};
  }
  // From to_json()'s object; {} (an epoch boundary) gives an empty progress. The categorical
  // counts are absent from checkpoints written before token models existed: 0.
  static EpochProgress from_json(const nlohmann::json& saved, const std::string& source,
                                 FrameOutput output) {
    EpochProgress progress{FrameMetrics(output)};
    if (saved.empty()) return progress;
    try {
      progress.steps = saved.at("steps").get<int64_t>();
      progress.frames = saved.at("frames").get<double>();
      progress.norm_sum = saved.at("norm_sum").get<double>();
      FrameTotals totals;
      totals.frames = saved.at("metric_frames").get<int64_t>();
      totals.nll_sum = saved.at("nll_sum").get<double>();
      totals.true_positives = saved.at("tp").get<int64_t>();
      totals.false_positives = saved.at("fp").get<int64_t>();
      totals.false_negatives = saved.at("fn").get<int64_t>();
      totals.correct = saved.value("correct", int64_t{0});
      totals.event_frames = saved.value("event_frames", int64_t{0});
      totals.event_correct = saved.value("event_correct", int64_t{0});
      progress.metrics = FrameMetrics::from_totals(output, totals);
    } catch (const nlohmann::json::exception& e) {
      throw InputError(
          fmt::format("{}: epoch_progress {} is malformed: {}", source, saved.dump(), e.what()));
    }
    return progress;
  }
};

// Everything a checkpoint restores, gathered so that resume and NaN rollback share one path.
struct TrainingState {
  int64_t step = 0;
  int64_t epochs_done = 0;
  LoaderPosition position;
  EpochProgress progress;  // of the epoch in course when the checkpoint was taken mid-epoch
};

class Trainer {
 public:
  Trainer(const config::ResolvedConfig& resolved, Dataset dataset, RunDirectory& run,
          int loader_threads, const Communicator& world, int shares, int64_t pause_after_epoch)
      : resolved_(resolved),
        config_(resolved.config),
        run_(run),
        loader_threads_(loader_threads),
        epoch_limit_(pause_after_epoch > 0
                         ? std::min<int64_t>(pause_after_epoch, config_.train.epochs)
                         : config_.train.epochs),
        dataset_(std::move(dataset)),
        train_split_(std::make_shared<SplitRolls>(dataset_.splits[0])),
        model_(build_model(config_.model, frame_width(dataset_.info), config_.data.context_frames,
                           config_.data.target_frames, frame_output(dataset_.info))),
        parameters_(model_->parameters()),
        world_(world),
        step_(world, shares, parameters_),
        optimizer_(config_.train.optimizer, parameters_),
        schedule_(config_.train.schedule, config_.train.optimizer.lr, config_.train.epochs),
        early_stopping_(config_.train.early_stopping_patience),
        store_(run.checkpoints(), config_.train.checkpoint.keep_last),
        injected_nan_(InjectedNan::from_environment()),
        injected_kill_(InjectedKill::from_environment()) {
    state_.progress = EpochProgress{FrameMetrics(model_->frame_output())};
    model_->init(static_cast<uint64_t>(config_.seed));
    if (config_.model.output_bias_init == "frequency") init_output_bias_from_frequencies();
  }

  TrainOutcome run() {
    auto& log = run_.log();
    log.info("dataset {}: {} train / {} valid / {} test sequences, {} {}", dataset_.info.name,
             dataset_.splits[0].sequences(), dataset_.splits[1].sequences(),
             dataset_.splits[2].sequences(), frame_width(dataset_.info),
             dataset_.info.kind == kTokensKind ? "event classes" : "keys");
    int64_t parameter_count = 0;
    for (const auto& named : parameters_)
      parameter_count += named.parameter->value.numel();
    log.info("model {} ({} attention, {} style): {} parameters",
             config::name_of(config_.model.type), config::name_of(config_.model.attention),
             config::name_of(config_.model.attention_style), parameter_count);
    // Rows logged after the newest checkpoint are redone; with no checkpoint, all of them.
    if (!restore_latest()) run_.metrics().reset_to({});
    auto loader = std::make_unique<Loader>(
        train_split_, loader_options(config_, loader_threads_, dataset_.info), state_.position);
    while (state_.epochs_done < epoch_limit_ && !stop_) {
      if (!train_epoch(*loader)) {
        // NaN rollback: the state was restored from the last good checkpoint.
        loader = std::make_unique<Loader>(
            train_split_, loader_options(config_, loader_threads_, dataset_.info), state_.position);
        continue;
      }
      end_epoch(loader->position());
    }
    if (!stop_ && state_.epochs_done < config_.train.epochs) return pause();
    return finish();
  }

 private:
  // decoder/output/b [P] = log(p / (1 - p)), p = the fraction of training frames in which the key
  // is on, clamped to [1e-4, 1 - 1e-4] so that keys never seen in training keep a finite bias.
  void init_output_bias_from_frequencies() {
    const SplitRolls& train = *train_split_;
    const int pitches = train.pitches;
    std::vector<int64_t> on(static_cast<size_t>(pitches), 0);
    for (size_t i = 0; i < train.cells.size(); ++i)
      on[i % static_cast<size_t>(pitches)] += train.cells[i];
    for (const auto& named : parameters_) {
      if (named.name != "decoder/output/b") continue;
      Tensor& bias = named.parameter->value;
      const bool categorical = model_->frame_output() == FrameOutput::kCategorical;
      for (int p = 0; p < pitches; ++p) {
        const double frequency =
            std::clamp(static_cast<double>(on[static_cast<size_t>(p)]) /
                           static_cast<double>(std::max<int64_t>(train.frames(), 1)),
                       1e-4, 1.0 - 1e-4);
        // A key's log-odds for a sigmoid; a class's log-frequency for a softmax (its
        // probabilities then start at the frequencies, up to the clamp).
        bias[p] = static_cast<float>(categorical ? std::log(frequency)
                                                 : std::log(frequency / (1.0 - frequency)));
      }
      return;
    }
    throw Error(
        "model has no decoder/output/b parameter for model.output_bias_init = \"frequency\"");
  }

  // Restores the newest valid checkpoint, if any. Returns false when there is none.
  bool restore_latest() {
    const auto latest = store_.load_latest_valid();
    if (!latest) return false;
    const CheckpointContents& saved = latest->contents;
    restore_parameters(saved.params, parameters_, latest->path.string());
    optimizer_.load_state(saved.optimizer);
    schedule_.load(saved.schedule);
    early_stopping_.load(saved.early_stopping);
    state_.step = saved.step;
    state_.epochs_done = saved.epoch;
    state_.position = {saved.loader.at("epoch").get<int64_t>(),
                       saved.loader.at("batch").get<int64_t>()};
    state_.progress = EpochProgress::from_json(saved.epoch_progress, latest->path.string(),
                                               model_->frame_output());
    run_.metrics().reset_to(saved.metrics);
    // A run killed after its last checkpoint (during the final test) has nothing left to train.
    stop_ = early_stopping_.should_stop() ||
            (config_.train.max_steps > 0 && state_.step >= config_.train.max_steps);
    run_.log().info("resumed from {} (epoch {}, step {})", latest->path.string(), saved.epoch,
                    saved.step);
    return true;
  }

  // One epoch of updates. Returns false when a NaN/Inf loss rolled the run back.
  bool train_epoch(Loader& loader) {
    model_->set_training(true);
    const int64_t epoch = state_.epochs_done + 1;
    const int64_t batches = loader.batches_per_epoch();
    EpochProgress sums =
        std::exchange(state_.progress, EpochProgress{FrameMetrics(model_->frame_output())});
    std::vector<double> step_seconds;
    double loader_wait = 0.0;
    double frames_since_start = 0.0;
    const auto epoch_start = Clock::now();
    const bool progress = ::isatty(STDERR_FILENO) == 1 && run_.writes_records();
    while (loader.position().epoch == epoch - 1) {
      // Every rank stops at the same step: the first at which any of them has seen a signal.
      if (const int signal = world_.max(interrupt_signal()); signal != 0) {
        stop_on_signal(signal, loader.position(), sums);
      }
      if (config_.train.max_steps > 0 && state_.step >= config_.train.max_steps) {
        stop_ = true;
        break;
      }
      const auto wait_start = Clock::now();
      const Batch batch = loader.next();
      loader_wait += seconds_since(wait_start);
      const auto step_start = Clock::now();
      const LossValue loss =
          step_.run(*model_, batch, &sums.metrics, static_cast<uint64_t>(config_.seed),
                    static_cast<uint64_t>(state_.step));
      const double mean_loss =
          injected_nan_.fires_at(state_.step) ? std::numeric_limits<double>::quiet_NaN()
          : loss.scored_frames > 0            ? loss.total / static_cast<double>(loss.scored_frames)
                                              : 0.0;
      const double norm = clip_grad_norm(parameters_, config_.train.clip_norm);
      if (!std::isfinite(mean_loss) || !std::isfinite(norm))
        return handle_non_finite(mean_loss, norm);
      optimizer_.step(schedule_.lr(state_.step));
      ++state_.step;
      ++sums.steps;
      sums.norm_sum += norm;
      sums.frames += static_cast<double>(loss.scored_frames);
      step_seconds.push_back(seconds_since(step_start));
      frames_since_start += static_cast<double>(loss.scored_frames);
      if (progress) {
        const double elapsed = seconds_since(epoch_start);
        const int64_t done =
            loader.position().epoch == epoch - 1 ? loader.position().batch : batches;
        fmt::print(stderr,
                   "\repoch {} step {} batch {}/{} loss {:.4f} {:.0f} frames/s ETA {:.0f} s   ",
                   epoch, state_.step, done, batches, mean_loss, frames_since_start / elapsed,
                   elapsed / static_cast<double>(std::max<int64_t>(done, 1)) *
                       static_cast<double>(batches - done));
      }
    }
    if (progress) fmt::print(stderr, "\n");
    const double seconds = seconds_since(epoch_start);
    train_row_ = sums.metrics.row();
    train_row_["lr"] = schedule_.lr(std::max<int64_t>(state_.step - 1, 0));
    train_row_["grad_norm"] =
        sums.steps == 0 ? 0.0 : sums.norm_sum / static_cast<double>(sums.steps);
    train_row_["frames_per_s"] = frames_since_start / std::max(seconds, 1e-9);
    train_row_["step_ms"] = step_seconds.empty() ? 0.0 : 1e3 * stats::median(step_seconds);
    train_row_["loader_wait_ms"] = 1e3 * loader_wait;
    train_row_["epoch_s"] = seconds;
    return true;
  }

  // Checkpoints the run where it stands, between two steps of an epoch, and stops it.
  [[noreturn]] void stop_on_signal(int signal, LoaderPosition position, const EpochProgress& sums) {
    state_.position = position;
    state_.progress = sums;
    save_checkpoint(false);
    // No rank exits before the checkpoint is written: a launcher may end the others when one ends.
    world_.barrier();
    throw Interrupted(signal, fmt::format("{} received: stopped at step {} (epoch {}, batch {}) "
                                          "with a checkpoint; `cadenza train --resume {}` "
                                          "continues it",
                                          signal_name(signal), state_.step, position.epoch + 1,
                                          position.batch, run_.path().string()));
  }

  bool handle_non_finite(double loss, double norm) {
    const std::string what = fmt::format(
        "step {}: the training loss is {} and the gradient norm {}", state_.step, loss, norm);
    if (config_.train.nan_guard == config::NanGuard::stop) {
      throw NumericError(what +
                         " (train.nan_guard = \"stop\"; try a lower train.optimizer.lr or "
                         "train.clip_norm, or nan_guard = \"rollback\")");
    }
    if (rollbacks_since_checkpoint_ == kMaxRollbacks) {
      throw NumericError(fmt::format(
          "{}; train.nan_guard = \"rollback\" gave up after {} rollbacks to the same checkpoint "
          "(the learning rate was divided by 10 each time)",
          what, kMaxRollbacks));
    }
    if (!restore_latest()) {
      throw NumericError(what +
                         "; train.nan_guard = \"rollback\" found no checkpoint to roll back to");
    }
    ++rollbacks_since_checkpoint_;
    // Each rollback to the same checkpoint divides its learning rate by 10 once more.
    schedule_.scale(std::pow(0.1, rollbacks_since_checkpoint_));
    run_.log().warn(
        "{}; rolled back to epoch {} (step {}) with that checkpoint's learning rate divided by {}",
        what, state_.epochs_done, state_.step, std::pow(10, rollbacks_since_checkpoint_));
    return false;
  }

  FrameMetrics evaluate(const SplitRolls& split) {
    model_->set_training(false);
    FrameMetrics metrics(model_->frame_output());
    model_->evaluate(split, config_.data.eval_batch_size,
                     [&metrics](const Tensor& logits, const Tensor& targets, const Tensor& mask) {
                       metrics.add(logits, targets, mask);
                     });
    return metrics;
  }

  void end_epoch(LoaderPosition position) {
    const int64_t epoch = state_.epochs_done + 1;
    const auto valid_start = Clock::now();
    const FrameMetrics valid =
        run_.writes_records() ? evaluate(dataset_.splits[1]) : FrameMetrics(model_->frame_output());
    const double valid_nll = world_.broadcast(valid.nll());
    nlohmann::json valid_row = valid.row();
    valid_row["eval_s"] = seconds_since(valid_start);
    std::vector<nlohmann::json> epoch_rows = {
        run_.metrics().make_row(epoch, state_.step, "train", train_row_),
        run_.metrics().make_row(epoch, state_.step, "valid", valid_row)};
    const bool best = early_stopping_.record(epoch, valid_nll);
    schedule_.end_epoch(valid_nll);
    state_.epochs_done = epoch;
    state_.position = position;
    run_.log().info("epoch {} step {}: train nll {:.4f}, valid nll {:.4f} acc {:.4f}{}", epoch,
                    state_.step, train_row_["nll"].get<double>(), valid_nll, valid.accuracy(),
                    best ? " (best)" : "");
    const bool last = state_.epochs_done == epoch_limit_ || early_stopping_.should_stop() || stop_;
    // The checkpoint first, holding the epoch's rows, then metrics.jsonl: a run killed between the
    // two resumes from that checkpoint, which restores the rows, so no epoch is trained twice. The
    // other order would show a valid row (an epoch reached, e.g. a search's rung) whose checkpoint
    // is missing, and the resumed run would train that epoch again.
    if (best || last || epoch % config_.train.checkpoint.every_epochs == 0) {
      save_checkpoint(best, epoch_rows);
    }
    injected_kill_.fire_at(epoch);
    run_.metrics().append(std::move(epoch_rows));
    if (early_stopping_.should_stop()) {
      run_.log().info("early stopping: no better valid nll for {} epochs",
                      config_.train.early_stopping_patience);
      stop_ = true;
    }
  }

  // Saves the state and the metrics rows logged so far followed by `unlogged_rows` (the rows of
  // the epoch just ended, which metrics.jsonl receives after the checkpoint).
  void save_checkpoint(bool best, const std::vector<nlohmann::json>& unlogged_rows = {}) {
    CheckpointContents contents;
    contents.config_json = resolved_.canonical.dump();
    contents.run_id = resolved_.run_id;
    contents.step = state_.step;
    contents.epoch = state_.epochs_done;
    contents.params = snapshot_parameters(parameters_);
    contents.optimizer = optimizer_.state();
    contents.schedule = schedule_.save();
    contents.early_stopping = early_stopping_.save();
    contents.rng = {{"seed", config_.seed}, {"dropout_step", state_.step}};
    contents.loader = {{"epoch", state_.position.epoch}, {"batch", state_.position.batch}};
    if (state_.progress.steps > 0) contents.epoch_progress = state_.progress.to_json();
    contents.metrics = run_.metrics().rows();
    contents.metrics.insert(contents.metrics.end(), unlogged_rows.begin(), unlogged_rows.end());
    if (run_.writes_records()) store_.save(contents, best);
    rollbacks_since_checkpoint_ = 0;
  }

  // The run stopped at its pause epoch, checkpointed there (end_epoch): nothing is evaluated.
  TrainOutcome pause() {
    TrainOutcome outcome;
    outcome.steps = state_.step;
    outcome.epochs = state_.epochs_done;
    outcome.best_epoch = early_stopping_.best_epoch();
    outcome.paused = true;
    run_.log().info("paused after epoch {} of {} (step {}); --resume continues it",
                    state_.epochs_done, config_.train.epochs, state_.step);
    return outcome;
  }

  TrainOutcome finish() {
    TrainOutcome outcome;
    outcome.steps = state_.step;
    outcome.epochs = state_.epochs_done;
    outcome.best_epoch = early_stopping_.best_epoch();
    if (!run_.writes_records()) return outcome;
    if (early_stopping_.has_best()) {
      const CheckpointContents best = store_.load_best();
      restore_parameters(best.params, parameters_, store_.best_path().string());
    }
    const FrameMetrics test = evaluate(dataset_.splits[2]);
    nlohmann::json row = test.row();
    row["best_epoch"] = outcome.best_epoch;
    run_.metrics().append(state_.epochs_done, state_.step, "test", row);
    if (test.output() == FrameOutput::kCategorical) {
      run_.log().info(
          "test (best valid epoch {}): nll {:.4f} perplexity {:.3f} acc {:.4f} event_accuracy "
          "{:.4f}",
          outcome.best_epoch, test.nll(), test.perplexity(), test.accuracy(),
          test.event_accuracy());
    } else {
      run_.log().info("test (best valid epoch {}): nll {:.4f} acc {:.4f} f1 {:.4f}",
                      outcome.best_epoch, test.nll(), test.accuracy(), test.f1());
    }
    outcome.test = test.to_json();
    return outcome;
  }

  const config::ResolvedConfig& resolved_;
  const config::ExperimentConfig& config_;
  RunDirectory& run_;
  int loader_threads_;
  // train.epochs, or the epoch to pause after when that comes first.
  int64_t epoch_limit_;
  Dataset dataset_;
  std::shared_ptr<const SplitRolls> train_split_;
  std::unique_ptr<SequenceModel> model_;
  std::vector<NamedParameter> parameters_;
  const Communicator& world_;
  DataParallelStep step_;
  Optimizer optimizer_;
  LrSchedule schedule_;
  EarlyStopping early_stopping_;
  CheckpointStore store_;
  TrainingState state_;
  nlohmann::json train_row_;
  bool stop_ = false;
  // NaN rollbacks to the latest checkpoint since it was written; the run stops after kMaxRollbacks.
  static constexpr int kMaxRollbacks = 6;
  int rollbacks_since_checkpoint_ = 0;
  InjectedNan injected_nan_;
  InjectedKill injected_kill_;
};

}  // namespace

TrainOutcome train_run(const config::ResolvedConfig& resolved, Dataset dataset, RunDirectory& run,
                       int loader_threads, const Communicator& world, int shares,
                       int64_t pause_after_epoch) {
  Trainer trainer(resolved, std::move(dataset), run, loader_threads, world, shares,
                  pause_after_epoch);
  return trainer.run();
}

}  // namespace cadenza
