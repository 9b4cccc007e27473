#include "experiments/report.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

#include "core/atomic_file.hpp"
#include "experiments/report_format.hpp"
#include "plot/charts.hpp"
#include "plot/svg_writer.hpp"

namespace cadenza {
namespace {

namespace fs = std::filesystem;

std::string signed_fixed(double value) {
  return std::isfinite(value) ? fmt::format("{:+.4f}", value) : "—";
}

std::string p_value_text(double p) {
  if (!std::isfinite(p)) return "—";
  return p < 1e-4 ? fmt::format("{:.1e}", p) : fmt::format("{:.4f}", p);
}

std::string interval_text(const stats::Interval& interval, bool sign = false) {
  if (!std::isfinite(interval.low) || !std::isfinite(interval.high)) return "—";
  return sign ? fmt::format("[{}, {}]", signed_fixed(interval.low), signed_fixed(interval.high))
              : fmt::format("[{}, {}]", fixed(interval.low), fixed(interval.high));
}

// 1234567 -> "1,234,567" (parameter counts are never negative).
std::string thousands(int64_t value) {
  const std::string digits = std::to_string(value);
  std::string grouped;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) grouped += ',';
    grouped += digits[i];
  }
  return grouped;
}

std::string variant_name(const Comparison& comparison, std::size_t v) {
  return comparison.variants[v].label + (v == comparison.baseline ? " (baseline)" : "");
}

const VariantResult* result_of(const Comparison& comparison, std::size_t v,
                               const std::string& dataset) {
  const auto found = comparison.results.find({v, dataset});
  return found == comparison.results.end() ? nullptr : &found->second;
}

const PairedDifference* difference_of(const Comparison& comparison, std::size_t v,
                                      const std::string& dataset, const std::string& metric) {
  for (const PairedDifference& difference : comparison.differences) {
    if (difference.variant == v && difference.dataset == dataset && difference.metric == metric) {
      return &difference;
    }
  }
  return nullptr;
}

std::string summary_cell(const stats::Summary& summary, bool significant) {
  if (summary.n == 0) return "—";
  std::string cell = fixed(summary.mean);
  if (summary.n >= 2) {
    cell += fmt::format(" ± {} {}", fixed(summary.std), interval_text(summary.ci));
  }
  cell += fmt::format(" n={}", summary.n);
  return significant ? cell + " *" : cell;
}

std::string verdict(const PairedDifference& difference) {
  if (difference.seeds.size() < 2) return "— (fewer than 2 pairs)";
  if (!difference.significant) return "no";
  const bool lower = difference.test.mean_difference < 0;
  return lower == lower_is_better(difference.metric) ? "* better" : "* worse";
}

std::vector<std::string> header_paragraphs(const ReportInputs& inputs) {
  const Comparison& c = inputs.comparison;
  std::vector<std::string> metric_notes;
  for (const std::string& metric : c.metrics) {
    metric_notes.push_back(
        fmt::format("{} ({} is better)", metric, lower_is_better(metric) ? "lower" : "higher"));
  }
  std::vector<std::string> paragraphs = {
      fmt::format("Compared: {}.", fmt::join(inputs.sources, ", ")),
      "Protocol (docs/metrics.md): every number is a test metric of a run's best-valid checkpoint "
      "(the test row of its metrics.jsonl). nll is in nats per frame: the Bernoulli negative "
      "log-likelihood summed over the keys, totalled over the test split and divided by its "
      "scored frames, which are frames 2..T of every sequence, each predicted from the frames "
      "before it; an encoder-decoder is scored on exactly these frames, so lm, seq2seq and "
      "attention variants sit in one column. acc = TP / (TP + FP + FN) over all scored frames "
      "and keys with predictions thresholded at 0.5 (Bay et al. 2009); precision, recall and f1 "
      "count the same way.",
      fmt::format("Metrics: {}.", fmt::join(metric_notes, ", ")),
      fmt::format(
          "Statistics: each cell is the mean ± sample standard deviation over seeds, [the 95% "
          "Student t confidence interval of the mean], and n, the number of completed seeds. "
          "Differences are variant − baseline over the seeds both completed: two-sided paired "
          "t-test p-value and 95% percentile bootstrap interval of the mean difference ({} "
          "resamples, Philox seed {}). * marks a significant difference: p < {} and a bootstrap "
          "interval that excludes 0.",
          kBootstrapResamples, kBootstrapSeed, kSignificanceLevel),
  };
  if (c.token_runs) {
    paragraphs.insert(
        paragraphs.begin() + 2,
        "Melody token runs (docs/melody.md) are scored on the same steps 2..T with one softmax per "
        "step: nll is in nats per event (the categorical negative log-likelihood of the true "
        "event), perplexity = exp(nll), acc the share of events whose most probable class is the "
        "true one, event_accuracy and no_event_accuracy the same share over the steps whose true "
        "event is NOTE_ON or NOTE_OFF, and NO_EVENT.");
  }
  if (std::any_of(c.metrics.begin(), c.metrics.end(), [](const std::string& metric) {
        return metric.rfind(kMusicMetricPrefix, 0) == 0;
      })) {
    paragraphs.push_back(
        "Music metrics (music.*): distances of the generated continuations from the test split, "
        "from the stats.json files of cadenza generate --stats in each run's generated/ folder "
        "(KL divergences in nats with add-one smoothing; framework/metrics/music_stats.hpp), "
        "averaged over a run's generation seeds, then summarized over training seeds like the "
        "test metrics.");
  }
  if (c.variants.empty()) {
    paragraphs.push_back("No run has a readable config, so there is no variant to compare.");
  } else {
    paragraphs.push_back(fmt::format("Variants differ in: {}. Baseline: {} — {}.",
                                     c.varying_keys.empty()
                                         ? std::string("nothing (one variant)")
                                         : fmt::format("{}", fmt::join(c.varying_keys, ", ")),
                                     c.variants[c.baseline].label, c.baseline_rule));
  }
  for (const std::string& selection : c.selections)
    paragraphs.push_back(fmt::format("Selection: {}.", selection));
  paragraphs.push_back(
      fmt::format("Runs: {} in the statistics, {} left out (listed at the end with the reason).",
                  c.runs_used, c.excluded.size()));
  return paragraphs;
}

}  // namespace

ReportSection comparison_results_section(const Comparison& c) {
  ReportSection section{"Results (test metrics)", {}, {}};
  section.table.columns = {"variant"};
  for (const std::string& dataset : c.datasets) {
    for (const std::string& metric : c.metrics)
      section.table.columns.push_back(dataset + " " + metric);
  }
  for (std::size_t v = 0; v < c.variants.size(); ++v) {
    std::vector<std::string> row = {variant_name(c, v)};
    for (const std::string& dataset : c.datasets) {
      const VariantResult* result = result_of(c, v, dataset);
      for (const std::string& metric : c.metrics) {
        const PairedDifference* difference = difference_of(c, v, dataset, metric);
        row.push_back(
            result ? summary_cell(result->metrics.at(metric), difference && difference->significant)
                   : "—");
      }
    }
    section.table.rows.push_back(std::move(row));
  }
  return section;
}

namespace {

ReportSection training_section(const Comparison& c) {
  ReportSection section{
      "Training",
      {"best epoch: the epoch of the best valid nll (whose checkpoint is tested), mean "
       "± std over seeds. train time: the sum of the per-epoch training and "
       "validation wall times logged in metrics.jsonl (all sessions of a resumed run; "
       "setup and the test evaluation excluded). parameters: the model's parameter "
       "count from the run's manifest.json (counted in checkpoints/best.h5 for runs "
       "older than that field)."},
      {{"variant", "dataset", "runs", "best epoch", "train time (s)", "parameters"}, {}}};
  for (std::size_t v = 0; v < c.variants.size(); ++v) {
    for (const std::string& dataset : c.datasets) {
      const VariantResult* result = result_of(c, v, dataset);
      if (!result) continue;
      const auto mean_std = [](const stats::Summary& s, int decimals) {
        if (s.n == 0) return std::string("—");
        return s.n >= 2 ? fmt::format("{} ± {}", fixed(s.mean, decimals), fixed(s.std, decimals))
                        : fixed(s.mean, decimals);
      };
      std::string parameters = "—";
      if (result->parameters_min) {
        parameters = *result->parameters_min == *result->parameters_max
                         ? thousands(*result->parameters_min)
                         : fmt::format("{}–{}", thousands(*result->parameters_min),
                                       thousands(*result->parameters_max));
      }
      section.table.rows.push_back({variant_name(c, v), dataset, std::to_string(result->runs),
                                    mean_std(result->best_epoch, 1),
                                    mean_std(result->train_seconds, 1), parameters});
    }
  }
  return section;
}

}  // namespace

ReportSection comparison_differences_section(const Comparison& c) {
  ReportSection section{"Paired differences to the baseline (variant − baseline)", {}, {}};
  if (c.variants.size() < 2) {
    section.paragraphs.push_back("One variant only: nothing to pair.");
    return section;
  }
  section.table.columns = {"variant",         "dataset",          "metric",       "pairs",
                           "mean difference", "95% bootstrap CI", "p (paired t)", "significant"};
  for (const PairedDifference& d : c.differences) {
    section.table.rows.push_back(
        {c.variants[d.variant].label, d.dataset, d.metric, std::to_string(d.seeds.size()),
         signed_fixed(d.test.mean_difference), interval_text(d.bootstrap, true),
         p_value_text(d.test.p_value), verdict(d)});
  }
  if (c.differences.empty()) {
    section.paragraphs.push_back(
        "No variant shares a dataset with completed runs of the baseline: nothing to pair.");
  }
  return section;
}

namespace {

ReportSection published_section(const ReportInputs& inputs) {
  ReportSection section{"Published numbers (results/published)", {}, {}};
  section.table.columns = {"id", "model", "dataset", "test nll", "verified", "where", "source"};
  for (const std::string& dataset : inputs.comparison.datasets) {
    for (const PublishedNumber& number : inputs.published) {
      if (number.dataset != dataset || number.metric != "test_nll") continue;
      section.table.rows.push_back(
          {number.id, number.model, number.dataset, fmt::format("{:.2f}", number.value),
           number.verified ? "yes" : "no (recalled)", number.table, number.citation});
    }
  }
  if (section.table.rows.empty()) {
    section.paragraphs.push_back("No published number is on these datasets.");
    section.table.columns.clear();
  } else {
    section.paragraphs.push_back(
        "Papers' test nll on the same benchmarks. 'verified' says whether the value was checked "
        "against the source; protocols differ from ours in training details (see each entry's "
        "protocol notes in results/published/).");
  }
  return section;
}

ReportSection excluded_section(const Comparison& c) {
  ReportSection section{"Runs not in the statistics", {}, {}};
  if (c.excluded.empty()) {
    section.paragraphs.push_back("None: every run found is completed and in the tables.");
    return section;
  }
  section.table.columns = {"run", "variant", "dataset", "seed", "status", "reason"};
  for (const ExcludedRun& excluded : c.excluded) {
    const bool known = !excluded.run.dataset.empty();
    section.table.rows.push_back(
        {excluded.run.dir.string(), excluded.variant.empty() ? "—" : excluded.variant,
         known ? excluded.run.dataset : "—", known ? std::to_string(excluded.run.seed) : "—",
         excluded.run.status, excluded.reason});
  }
  return section;
}

std::vector<ReportSection> sections(const ReportInputs& inputs) {
  return {comparison_results_section(inputs.comparison), training_section(inputs.comparison),
          comparison_differences_section(inputs.comparison), published_section(inputs),
          excluded_section(inputs.comparison)};
}

// --- HTML -------------------------------------------------------------------------------------

svg::LineChart curve_chart(const Comparison& c, const std::string& dataset) {
  svg::LineChart chart{
      "Valid nll per epoch — " + dataset, "epoch", "valid nll (nats per frame)", {}};
  for (std::size_t v = 0; v < c.variants.size(); ++v) {
    svg::Series series{c.variants[v].label, {}, {}, {}, {}};
    if (const VariantResult* result = result_of(c, v, dataset)) {
      for (const CurvePoint& point : result->curve) {
        series.x.push_back(static_cast<double>(point.epoch));
        series.y.push_back(point.mean);
        series.low.push_back(point.min);
        series.high.push_back(point.max);
      }
    }
    chart.series.push_back(std::move(series));
  }
  return chart;
}

svg::BarChart bar_chart_of(const Comparison& c, const std::string& dataset,
                           const std::string& metric) {
  svg::BarChart chart{
      "Test " + metric + " — " + dataset, "test " + metric + ": mean over seeds and 95% CI", {}};
  for (std::size_t v = 0; v < c.variants.size(); ++v) {
    const VariantResult* result = result_of(c, v, dataset);
    const stats::Summary summary = result ? result->metrics.at(metric) : stats::Summary{};
    const double nan = std::nan("");
    chart.bars.push_back({c.variants[v].label, summary.n > 0 ? summary.mean : nan, summary.ci.low,
                          summary.ci.high, fmt::format("n={}", summary.n)});
    if (summary.n == 0) chart.bars.back().low = chart.bars.back().high = nan;
  }
  return chart;
}

}  // namespace

std::string report_markdown(const ReportInputs& inputs) {
  std::string md = "# cadenza compare\n\n";
  for (const std::string& paragraph : header_paragraphs(inputs))
    md += paragraph + "\n\n";
  md += "Plots (learning curves, test metric bars): report.html.\n\n";
  for (const ReportSection& section : sections(inputs))
    md += markdown_section(section);
  return md;
}

std::string report_csv(const Comparison& c) {
  const auto number = [](double value) {
    return std::isfinite(value) ? fmt::format("{}", value) : std::string();
  };
  std::vector<std::string> columns = {"variant", "baseline"};
  for (const std::string& key : c.varying_keys)
    columns.push_back(key);
  for (const char* column :
       {"dataset", "metric", "n", "mean", "std", "ci95_low", "ci95_high", "best_epoch_mean",
        "train_seconds_mean", "parameters", "pairs", "diff_mean", "diff_ci95_low", "diff_ci95_high",
        "p_value", "significant"}) {
    columns.emplace_back(column);
  }
  std::vector<std::string> escaped_columns;
  for (const std::string& column : columns)
    escaped_columns.push_back(csv_cell(column));
  std::string csv = csv_line(escaped_columns);
  for (std::size_t v = 0; v < c.variants.size(); ++v) {
    for (const std::string& dataset : c.datasets) {
      const VariantResult* result = result_of(c, v, dataset);
      if (!result) continue;
      for (const std::string& metric : c.metrics) {
        const stats::Summary& s = result->metrics.at(metric);
        std::vector<std::string> cells = {csv_cell(c.variants[v].label),
                                          v == c.baseline ? "true" : "false"};
        for (const auto& [key, value] : c.variants[v].settings)
          cells.push_back(csv_cell(value.is_string() ? value.get<std::string>() : value.dump()));
        cells.insert(cells.end(),
                     {csv_cell(dataset), csv_cell(metric), std::to_string(s.n), number(s.mean),
                      number(s.std), number(s.ci.low), number(s.ci.high),
                      number(result->best_epoch.mean), number(result->train_seconds.mean),
                      result->parameters_min && result->parameters_min == result->parameters_max
                          ? std::to_string(*result->parameters_min)
                          : ""});
        const PairedDifference* d = difference_of(c, v, dataset, metric);
        if (d) {
          cells.insert(cells.end(),
                       {std::to_string(d->seeds.size()), number(d->test.mean_difference),
                        number(d->bootstrap.low), number(d->bootstrap.high),
                        number(d->test.p_value), d->significant ? "true" : "false"});
        } else {
          cells.insert(cells.end(), {"", "", "", "", "", ""});
        }
        csv += csv_line(cells);
      }
    }
  }
  return csv;
}

std::string report_html(const ReportInputs& inputs) {
  const Comparison& c = inputs.comparison;
  std::string html = html_page_start("cadenza compare");
  for (const std::string& paragraph : header_paragraphs(inputs))
    html += "<p>" + svg::xml_escape(paragraph) + "</p>\n";
  std::vector<ReportSection> all = sections(inputs);
  html += html_section(all.front());
  html += "<h2>Plots</h2>\n";
  for (const std::string& dataset : c.datasets) {
    html += html_figure(svg::line_chart(curve_chart(c, dataset)),
                        "Valid nll per epoch on " + dataset +
                            ": the mean over the completed seeds (line) and their min–max (band). "
                            "After a run stops early, later epochs average the runs still "
                            "training.");
    if (!c.metrics.empty()) {
      const std::string& metric = c.metrics.front();
      html += html_figure(svg::bar_chart(bar_chart_of(c, dataset, metric)),
                          "Test " + metric + " on " + dataset +
                              ": mean over seeds; error bars are the 95% t confidence interval of "
                              "the mean (shown for n ≥ 2).");
    }
  }
  for (std::size_t i = 1; i < all.size(); ++i)
    html += html_section(all[i]);
  return html + html_page_end();
}

void write_report(const ReportInputs& inputs, const fs::path& out_dir) {
  fs::create_directories(out_dir);
  write_file_atomic(out_dir / "report.md", report_markdown(inputs));
  write_file_atomic(out_dir / "report.csv", report_csv(inputs.comparison));
  write_file_atomic(out_dir / "report.html", report_html(inputs));
}

}  // namespace cadenza
