// The trial table of a search: where every trial stands and what every rung decided, derived
// from the trials' run files alone. The decisions are a pure function of the trials' metrics
// (search/successive_halving.hpp), so any process, at any time, after any restart, derives the
// same table from the same files; decisions.json is a copy of it for readers.
//
// A trial's result at a rung of epoch E is the best value of the objective over its valid rows
// with epoch <= E (the model its run keeps, the best-valid checkpoint, is chosen the same way). A
// trial has that result once its metrics have valid rows through epoch E, or once its run
// completed (early stopping, train.max_steps) before E; a trial whose run failed before E has
// failed there. A rung is decided once every trial that entered it has a result or failed.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "search/search_plan.hpp"
#include "search/successive_halving.hpp"
#include "sweeps/sweep_runner.hpp"

namespace cadenza {

// What the files of one trial's run say.
struct TrialProgress {
  std::vector<std::pair<int64_t, double>> objective_by_epoch;  // valid rows: (epoch, objective)
  bool completed = false;                                      // the run's manifest says completed
  bool failed = false;   // the run failed (sweeps/run_state.hpp)
  bool running = false;  // some process holds the run's lock

  // Epochs trained: the highest epoch of a valid row (0 when none).
  int64_t epochs() const;
};

TrialProgress read_trial_progress(const std::filesystem::path& folder, const PlannedRun& run,
                                  const config::SearchObjective& objective);

struct RungRecord {
  int64_t epoch = 0;
  std::vector<size_t> entrants;     // trial numbers, ascending
  std::vector<RungResult> results;  // of the entrants that have one or failed, by trial number
  bool decided = false;             // every entrant has a result or failed
  std::vector<size_t> promoted;     // decided, not the last rung: the trials that go on, best first
};

enum class TrialFate { kTraining, kPruned, kFailed, kFinished };

// "training", "pruned", "failed", "finished".
const char* fate_name(TrialFate fate);

struct TrialRow {
  size_t number = 0;
  TrialFate fate = TrialFate::kTraining;
  size_t rung = 0;  // the highest rung it entered
  // Its latest result: at the highest rung where it has one, the best objective of its epochs up
  // to the rung's, reached at epoch objective_epoch (at most the rung's epoch).
  std::optional<double> objective;
  int64_t objective_epoch = 0;
  int64_t epochs = 0;  // epochs its run has trained
  bool running = false;
};

struct VariantTable {
  std::vector<RungRecord> rungs;  // the rungs entered so far, in order
  std::vector<TrialRow> trials;   // by trial number
  int64_t epochs_spent = 0;       // epochs trained, summed over the variant's distinct runs
  bool complete = false;          // the last rung is decided
  std::optional<size_t> best;     // the best result of the highest rung with results: the best
                                  // so far, the winner once complete; ties to the smaller number
};

// Decides the rungs of one variant from its trials' progress ([trial number]) and says where
// every trial stands. Pure.
VariantTable decide_variant(const SearchVariant& variant,
                            const std::vector<TrialProgress>& progress,
                            const std::vector<std::string>& run_ids,
                            const config::SearchSpec& spec);

// The run ids of variant `v`'s trials, by trial number.
std::vector<std::string> variant_run_ids(const SearchPlan& plan, size_t v);

// Every trial's progress in `folder`: [variant][trial number].
using SearchProgress = std::vector<std::vector<TrialProgress>>;
SearchProgress read_search_progress(const SearchPlan& plan, const std::filesystem::path& folder);

// Decides every variant from its trials' progress. Pure.
std::vector<VariantTable> decide_search(const SearchPlan& plan, const SearchProgress& progress);

// decide_search(plan, read_search_progress(plan, folder)).
std::vector<VariantTable> read_search_tables(const SearchPlan& plan,
                                             const std::filesystem::path& folder);

// The best objective against the epochs spent, one point per epoch trained, with the epochs
// counted in the order a one-job search trains them: rung by rung, each rung's entrants by trial
// number, each trial's epochs since the previous rung (a run shared by two trials counted once,
// as in epochs_spent). Point i is (epochs spent, the best valid objective of any epoch trained so
// far). The last point's epochs are table.epochs_spent. Pure.
std::vector<std::pair<int64_t, double>> best_objective_curve(
    const SearchVariant& variant, const VariantTable& table,
    const std::vector<TrialProgress>& progress, const std::vector<std::string>& run_ids,
    bool minimize);

// The tasks that move the search on: for each variant, the entrants of its undecided rung that
// have neither a result nor failed, each trained up to that rung's epoch (to its end at the last
// rung), in plan order.
std::vector<SweepTask> pending_tasks(const SearchPlan& plan,
                                     const std::vector<VariantTable>& tables);

// The decisions.json document: per variant, its rungs (entrants, results, promoted), its trials
// (run id, values, fate, epochs) and its epochs spent. Holds nothing timing-dependent.
nlohmann::json decisions_document(const SearchPlan& plan, const std::vector<VariantTable>& tables);

// Writes <folder>/decisions.json atomically.
void write_decisions(const SearchPlan& plan, const std::vector<VariantTable>& tables,
                     const std::filesystem::path& folder);

}  // namespace cadenza
