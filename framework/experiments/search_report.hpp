// The report of a search, written into its folder by `cadenza search` when it ends (and again by
// every later invocation of it), in three forms with the same content:
//
//   report.md    the protocol (the objective, on validation data only; sampler; pruner and
//                rungs), the budget each variant spent, then per variant its trials (values, fate,
//                rung reached, epochs, result) and its rungs (entrants and survivors); then the
//                confirmed configs side by side: each variant's best trial, and the test metrics
//                of its confirmation runs with the paired statistics of `cadenza compare`;
//   report.csv   one row per trial of every variant: its values, fate, epochs and result at
//                every rung, at full precision;
//   report.html  the Markdown's tables plus, per variant, SVG charts: the objective against each
//                searched key (a point per trial, hollow when pruned, coloured by the rung it
//                reached) and the best objective against the epochs spent.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "experiments/compare.hpp"
#include "experiments/run_collection.hpp"
#include "search/search_plan.hpp"
#include "search/search_table.hpp"

namespace cadenza {

// What the report shows, read from a search's folder.
struct SearchReport {
  const SearchPlan& plan;
  SearchProgress progress;           // [variant][trial number]
  std::vector<VariantTable> tables;  // decide_search(plan, progress)
  // The confirmation runs (search/search_confirm.hpp): none without search.confirm or before
  // every variant's last rung is decided.
  SweepPlan confirmation;
  std::vector<RunRecord> confirmation_runs;  // confirmation.runs' directories, in plan order
  std::optional<Comparison> comparison;      // of confirmation_runs, when there are any
};

// Reads the trials' progress, the tables and the confirmation runs of the search in `folder`.
SearchReport read_search_report(const SearchPlan& plan, const std::filesystem::path& folder);

std::string search_report_markdown(const SearchReport& report);
std::string search_report_csv(const SearchReport& report);
std::string search_report_html(const SearchReport& report);

// Writes report.md, report.csv and report.html into `folder`, each atomically.
void write_search_report(const SearchReport& report, const std::filesystem::path& folder);

}  // namespace cadenza
