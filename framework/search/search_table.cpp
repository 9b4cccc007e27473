#include "search/search_table.hpp"

#include <algorithm>
#include <set>

#include "core/atomic_file.hpp"
#include "runs/metrics_log.hpp"
#include "runs/run_lock.hpp"
#include "sweeps/run_state.hpp"

namespace cadenza {
namespace fs = std::filesystem;

namespace {

bool better(double a, double b, bool minimize) {
  return minimize ? a < b : a > b;
}

// The trial's result at a rung of epoch `epoch`, the best objective of its epochs up to the
// rung's, or nullopt; `best_epoch` is the epoch it was reached at. `known` says whether the trial
// has it (a result, or nullopt: it failed before the rung) or is still training towards it. The
// last rung needs the completed run (its test evaluation done), not just its rows.
std::optional<double> result_at(const TrialProgress& progress, int64_t epoch, bool last,
                                bool minimize, bool& known, int64_t& best_epoch) {
  const bool reached = progress.completed || (!last && progress.epochs() >= epoch);
  known = reached || progress.failed;
  std::optional<double> best;
  if (!reached) return best;
  for (const auto& [row_epoch, value] : progress.objective_by_epoch) {
    if (row_epoch <= epoch && (!best || better(value, *best, minimize))) {
      best = value;
      best_epoch = row_epoch;
    }
  }
  return best;
}

std::optional<size_t> best_of(const std::vector<RungResult>& results, bool minimize) {
  std::optional<size_t> best;
  std::optional<double> value;
  for (const auto& result : results) {
    if (!result.objective) continue;
    if (!value || better(*result.objective, *value, minimize) ||
        (*result.objective == *value && result.trial < *best)) {
      best = result.trial;
      value = result.objective;
    }
  }
  return best;
}

}  // namespace

std::vector<std::string> variant_run_ids(const SearchPlan& plan, size_t v) {
  std::vector<std::string> run_ids;
  for (const size_t index : plan.variants[v].trials)
    run_ids.push_back(plan.run_of(plan.trials[index]).run_id());
  return run_ids;
}

int64_t TrialProgress::epochs() const {
  int64_t epochs = 0;
  for (const auto& [epoch, value] : objective_by_epoch)
    epochs = std::max(epochs, epoch);
  return epochs;
}

TrialProgress read_trial_progress(const fs::path& folder, const PlannedRun& run,
                                  const config::SearchObjective& objective) {
  const RunFiles files = run_files(folder, run);
  TrialProgress progress;
  for (const auto& row : read_metrics_rows(files.run_dir / "metrics.jsonl", BadMetricsRow::kSkip)) {
    const auto& value = row.value;
    if (!value.is_object() || value.value("split", "") != "valid") continue;
    if (!value.contains(objective.metric) || !value[objective.metric].is_number()) continue;
    progress.objective_by_epoch.emplace_back(value.value("epoch", int64_t{0}),
                                             value[objective.metric].get<double>());
  }
  const RunState state = read_run_status(files, folder).state;
  progress.completed = state == RunState::kDone;
  progress.failed = state == RunState::kFailed;
  progress.running = RunLock::is_held(files.lock);
  return progress;
}

const char* fate_name(TrialFate fate) {
  switch (fate) {
    case TrialFate::kTraining:
      return "training";
    case TrialFate::kPruned:
      return "pruned";
    case TrialFate::kFailed:
      return "failed";
    case TrialFate::kFinished:
      return "finished";
  }
  return "unknown";
}

VariantTable decide_variant(const SearchVariant& variant,
                            const std::vector<TrialProgress>& progress,
                            const std::vector<std::string>& run_ids,
                            const config::SearchSpec& spec) {
  const bool minimize = spec.objective.minimize;
  VariantTable table;
  table.trials.resize(progress.size());
  std::vector<size_t> entrants;
  for (size_t k = 0; k < progress.size(); ++k) {
    entrants.push_back(k);
    table.trials[k].number = k;
    table.trials[k].epochs = progress[k].epochs();
    table.trials[k].running = progress[k].running;
  }
  for (size_t r = 0; r < variant.rungs.size(); ++r) {
    RungRecord rung;
    rung.epoch = variant.rungs[r];
    rung.entrants = entrants;
    rung.decided = true;
    const bool last = r + 1 == variant.rungs.size();
    for (const size_t k : entrants) {
      bool known = false;
      int64_t best_epoch = 0;
      const std::optional<double> objective =
          result_at(progress[k], rung.epoch, last, minimize, known, best_epoch);
      TrialRow& row = table.trials[k];
      row.rung = r;
      row.fate = TrialFate::kTraining;
      if (!known) {
        rung.decided = false;
        continue;
      }
      rung.results.push_back({k, objective});
      if (!objective) {
        row.fate = TrialFate::kFailed;
        continue;
      }
      row.objective = objective;
      row.objective_epoch = best_epoch;
    }
    if (const auto best = best_of(rung.results, minimize)) table.best = best;
    if (rung.decided) {
      if (last) {
        for (const size_t k : entrants) {
          if (table.trials[k].fate != TrialFate::kFailed)
            table.trials[k].fate = TrialFate::kFinished;
        }
        table.complete = true;
      } else {
        rung.promoted = promoted_trials(rung.results, spec.eta, minimize);
        for (const size_t k : entrants) {
          const bool goes_on =
              std::find(rung.promoted.begin(), rung.promoted.end(), k) != rung.promoted.end();
          if (!goes_on && table.trials[k].fate != TrialFate::kFailed) {
            table.trials[k].fate = TrialFate::kPruned;
          }
        }
        entrants = rung.promoted;
        std::sort(entrants.begin(), entrants.end());
      }
    }
    table.rungs.push_back(std::move(rung));
    if (!table.rungs.back().decided) break;
  }
  std::set<std::string> counted;
  for (size_t k = 0; k < progress.size(); ++k) {
    if (counted.insert(run_ids[k]).second) table.epochs_spent += progress[k].epochs();
  }
  return table;
}

SearchProgress read_search_progress(const SearchPlan& plan, const fs::path& folder) {
  SearchProgress progress;
  for (const auto& variant : plan.variants) {
    std::vector<TrialProgress>& trials = progress.emplace_back();
    for (const size_t index : variant.trials)
      trials.push_back(
          read_trial_progress(folder, plan.run_of(plan.trials[index]), plan.spec.objective));
  }
  return progress;
}

std::vector<VariantTable> decide_search(const SearchPlan& plan, const SearchProgress& progress) {
  std::vector<VariantTable> tables;
  for (size_t v = 0; v < plan.variants.size(); ++v) {
    tables.push_back(
        decide_variant(plan.variants[v], progress[v], variant_run_ids(plan, v), plan.spec));
  }
  return tables;
}

std::vector<VariantTable> read_search_tables(const SearchPlan& plan, const fs::path& folder) {
  return decide_search(plan, read_search_progress(plan, folder));
}

std::vector<std::pair<int64_t, double>> best_objective_curve(
    const SearchVariant& variant, const VariantTable& table,
    const std::vector<TrialProgress>& progress, const std::vector<std::string>& run_ids,
    bool minimize) {
  std::vector<std::pair<int64_t, double>> curve;
  std::optional<double> best;
  int64_t spent = 0;
  for (size_t r = 0; r < table.rungs.size(); ++r) {
    const int64_t from = r == 0 ? 0 : variant.rungs[r - 1];
    std::set<std::string> counted;  // a run two entrants share trains its rung once
    for (const size_t k : table.rungs[r].entrants) {
      if (!counted.insert(run_ids[k]).second) continue;
      for (const auto& [epoch, value] : progress[k].objective_by_epoch) {
        if (epoch <= from || epoch > variant.rungs[r]) continue;
        if (!best || better(value, *best, minimize)) best = value;
        curve.emplace_back(++spent, *best);
      }
    }
  }
  return curve;
}

std::vector<SweepTask> pending_tasks(const SearchPlan& plan,
                                     const std::vector<VariantTable>& tables) {
  std::vector<SweepTask> tasks;
  for (size_t v = 0; v < plan.variants.size(); ++v) {
    const SearchVariant& variant = plan.variants[v];
    const VariantTable& table = tables[v];
    if (table.complete || table.rungs.empty()) continue;
    const RungRecord& rung = table.rungs.back();
    const bool last = table.rungs.size() == variant.rungs.size();
    for (const size_t k : rung.entrants) {
      const bool has_result =
          std::any_of(rung.results.begin(), rung.results.end(),
                      [k](const RungResult& result) { return result.trial == k; });
      if (has_result) continue;
      tasks.push_back({plan.trials[variant.trials[k]].run, last ? 0 : rung.epoch});
    }
  }
  std::sort(tasks.begin(), tasks.end(),
            [](const SweepTask& a, const SweepTask& b) { return a.run < b.run; });
  return tasks;
}

nlohmann::json decisions_document(const SearchPlan& plan, const std::vector<VariantTable>& tables) {
  nlohmann::json variants = nlohmann::json::array();
  for (size_t v = 0; v < plan.variants.size(); ++v) {
    const SearchVariant& variant = plan.variants[v];
    const VariantTable& table = tables[v];
    nlohmann::json rungs = nlohmann::json::array();
    for (const auto& rung : table.rungs) {
      nlohmann::json results = nlohmann::json::array();
      for (const auto& result : rung.results) {
        results.push_back({{"trial", result.trial},
                           {"objective", result.objective ? nlohmann::json(*result.objective)
                                                          : nlohmann::json(nullptr)}});
      }
      rungs.push_back({{"epoch", rung.epoch},
                       {"entrants", rung.entrants},
                       {"results", results},
                       {"decided", rung.decided},
                       {"promoted", rung.promoted}});
    }
    nlohmann::json trials = nlohmann::json::array();
    for (const auto& row : table.trials) {
      const SearchTrial& trial = plan.trials[variant.trials[row.number]];
      nlohmann::json values = nlohmann::json::object();
      for (const auto& [key, value] : trial.values)
        values[key] = value;
      trials.push_back({{"trial", row.number},
                        {"run_id", plan.run_of(trial).run_id()},
                        {"values", values},
                        {"fate", fate_name(row.fate)},
                        {"rung", row.rung},
                        {"epochs", row.epochs}});
    }
    variants.push_back({{"variant", variant.label},
                        {"objective", plan.spec.objective.name()},
                        {"complete", table.complete},
                        {"best_trial", table.best ? nlohmann::json(*table.best) : nullptr},
                        {"epochs_spent", table.epochs_spent},
                        {"rungs", rungs},
                        {"trials", trials}});
  }
  return {{"format", "cadenza-search-decisions"},
          {"version", 1},
          {"name", plan.runs.name},
          {"variants", variants}};
}

void write_decisions(const SearchPlan& plan, const std::vector<VariantTable>& tables,
                     const fs::path& folder) {
  fs::create_directories(folder);
  write_file_atomic(folder / "decisions.json", decisions_document(plan, tables).dump(2) + "\n");
}

}  // namespace cadenza
