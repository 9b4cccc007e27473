// The report of a comparison (compare.hpp), in three forms with the same content:
//
//   report.md    header (protocol, statistics, baseline), results table (variants x datasets x
//                metrics: mean ± std [95% CI] n, * when significantly different from the
//                baseline), training table (best epoch, train time, parameters), paired
//                differences, published numbers, runs left out of the statistics and why;
//   report.csv   one row per variant, dataset and metric, every number at full precision;
//   report.html  the Markdown's tables plus, per dataset, an SVG learning-curve chart (valid nll
//                per epoch, mean and min-max band over seeds) and an SVG bar chart of the first
//                metric with 95% CI error bars; one file, inline CSS and SVG, no external asset.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "experiments/compare.hpp"
#include "experiments/published.hpp"
#include "experiments/report_format.hpp"

namespace cadenza {

struct ReportInputs {
  const Comparison& comparison;
  std::vector<std::string> sources;               // the paths compared, as given
  const std::vector<PublishedNumber>& published;  // numbers to show beside ours
};

// The results table (variants x datasets x metrics, * when significantly different from the
// baseline) and the paired differences to the baseline: the sections other reports embed (a
// search's confirmation, experiments/search_report.hpp).
ReportSection comparison_results_section(const Comparison& comparison);
ReportSection comparison_differences_section(const Comparison& comparison);

std::string report_markdown(const ReportInputs& inputs);
std::string report_csv(const Comparison& comparison);
std::string report_html(const ReportInputs& inputs);

// Writes report.md, report.csv and report.html into `out_dir` (created when needed), each
// atomically.
void write_report(const ReportInputs& inputs, const std::filesystem::path& out_dir);

}  // namespace cadenza
