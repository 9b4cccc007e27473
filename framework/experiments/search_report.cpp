#include "experiments/search_report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/atomic_file.hpp"
#include "experiments/report.hpp"
#include "experiments/report_format.hpp"
#include "plot/charts.hpp"
#include "plot/svg_writer.hpp"
#include "search/search_confirm.hpp"

namespace cadenza {
namespace {

namespace fs = std::filesystem;

constexpr double kNoValue = std::numeric_limits<double>::quiet_NaN();

const SearchTrial& trial_of(const SearchPlan& plan, size_t v, size_t number) {
  return plan.trials[plan.variants[v].trials[number]];
}

// A sampled value as a table shows it: numbers with 4 significant digits, strings as they are.
std::string value_text(const nlohmann::json& value) {
  if (value.is_number_float()) return fmt::format("{:.4g}", value.get<double>());
  if (value.is_string()) return value.get<std::string>();
  return value.dump();
}

// The trial's result at rung r, if it entered the rung and has one there.
std::optional<double> rung_result(const RungRecord& rung, size_t trial) {
  for (const RungResult& result : rung.results) {
    if (result.trial == trial) return result.objective;
  }
  return std::nullopt;
}

int64_t full_training_epochs(const SearchVariant& variant) {
  return static_cast<int64_t>(variant.trials.size()) * variant.rungs.back();
}

std::string rungs_text(const SearchVariant& variant) {
  return fmt::format("{}", fmt::join(variant.rungs, "/"));
}

std::string state_text(const SearchVariant& variant, const VariantTable& table) {
  return table.complete ? "complete"
                        : fmt::format("at rung {} of {}", table.rungs.size(), variant.rungs.size());
}

// The confirmation runs of variant `v` (indices into report.confirmation.runs).
std::vector<size_t> confirmation_runs_of(const SearchReport& report, size_t v) {
  std::vector<size_t> runs;
  for (size_t i = 0; i < report.confirmation.runs.size(); ++i) {
    if (report.confirmation.runs[i].variant == report.plan.variants[v].label) runs.push_back(i);
  }
  return runs;
}

// Epochs the run trained: its highest valid epoch.
int64_t epochs_of(const RunRecord& run) {
  return run.valid_nll.empty() ? 0 : run.valid_nll.rbegin()->first;
}

std::vector<std::string> protocol_paragraphs(const SearchReport& report) {
  const SearchPlan& plan = report.plan;
  const config::SearchSpec& spec = plan.spec;
  const std::string objective = spec.objective.name();
  std::vector<std::string> paragraphs = {
      fmt::format(
          "Search {} of {}: {} trial(s) in each of {} variant(s), drawn by the {} sampler{}; "
          "trial k has the same values in every variant (common random numbers).",
          plan.runs.name, plan.runs.experiment.generic_string(), spec.trials, plan.variants.size(),
          spec.sampler == config::SamplerKind::kSobol ? "Sobol (Boost.Random)" : "random (Philox)",
          spec.sampler == config::SamplerKind::kRandom ? fmt::format(", search.seed {}", spec.seed)
                                                       : std::string()),
      spec.pruner == config::PrunerKind::kSuccessiveHalving
          ? fmt::format(
                "Pruner: successive halving (min_epochs {}, eta {}): every trial trains to the "
                "first rung; at each rung the best max(1, floor(n / {})) of its n trials go on, "
                "continuing their own runs from their checkpoints, up to train.epochs; decisions "
                "wait for every trial of the rung.",
                spec.min_epochs, spec.eta, spec.eta)
          : "Pruner: none: every trial trains train.epochs.",
      fmt::format(
          "Selection on validation data only: the objective is {} ({}); a trial's result at a "
          "rung of epoch E is its best {} over epochs 1..E. No test metric enters any decision; "
          "the test rows of the trials that finish, and of the confirmation runs, are reported "
          "after the choice.",
          objective, spec.objective.minimize ? "minimised" : "maximised", objective),
      "Budget: the epochs the trials' runs trained (a run two trials share counts once), against "
      "training every trial to train.epochs.",
  };
  if (spec.confirm_seeds == 0) {
    paragraphs.push_back(
        "Confirmation: none (search.confirm.seeds is not set): the best trials' test metrics "
        "come from the one seed they were selected with.");
  } else {
    paragraphs.push_back(fmt::format(
        "Confirmation: each variant's best trial is trained again with {} fresh seed(s) ({}) "
        "after the last rung, in confirm/; `cadenza compare` over this folder pairs the tuned "
        "variants seed by seed.",
        spec.confirm_seeds,
        fmt::join(
            confirmation_seeds(plan.runs.runs.front().resolved.config.seed, spec.confirm_seeds),
            ", ")));
  }
  return paragraphs;
}

ReportSection budget_section(const SearchReport& report) {
  ReportSection section{"Budget", {}, {}};
  section.table.columns = {"variant",
                           "trials",
                           "rungs (epochs)",
                           "state",
                           "epochs spent",
                           "every trial fully",
                           "share",
                           "confirmation runs",
                           "confirmation epochs"};
  for (size_t v = 0; v < report.plan.variants.size(); ++v) {
    const SearchVariant& variant = report.plan.variants[v];
    const VariantTable& table = report.tables[v];
    const int64_t full = full_training_epochs(variant);
    const std::vector<size_t> confirmations = confirmation_runs_of(report, v);
    size_t completed = 0;
    int64_t confirmation_epochs = 0;
    for (const size_t i : confirmations) {
      const RunRecord& run = report.confirmation_runs[i];
      if (run.status == "completed") ++completed;
      confirmation_epochs += epochs_of(run);
    }
    section.table.rows.push_back(
        {variant.label, std::to_string(variant.trials.size()), rungs_text(variant),
         state_text(variant, table), std::to_string(table.epochs_spent), std::to_string(full),
         fmt::format("{:.0f}%", 100.0 * static_cast<double>(table.epochs_spent) /
                                    static_cast<double>(std::max<int64_t>(full, 1))),
         confirmations.empty() ? "—"
                               : fmt::format("{} of {} completed", completed, confirmations.size()),
         confirmations.empty() ? "—" : std::to_string(confirmation_epochs)});
  }
  return section;
}

std::string best_text(const SearchReport& report, size_t v) {
  const VariantTable& table = report.tables[v];
  if (!table.best) return "No trial has a result yet.";
  const TrialRow& row = table.trials[*table.best];
  const SearchTrial& trial = trial_of(report.plan, v, *table.best);
  return fmt::format(
      "{} trial {}: {} {} at epoch {} (run {}; {}).", table.complete ? "Best" : "Best so far",
      trial.number, report.plan.spec.objective.name(), fixed(row.objective.value_or(kNoValue)),
      row.objective_epoch, report.plan.run_of(trial).run_id(), values_label(trial.values));
}

ReportSection trials_section(const SearchReport& report, size_t v) {
  const SearchPlan& plan = report.plan;
  const VariantTable& table = report.tables[v];
  ReportSection section{"Trials", {}, {}};
  section.table.columns = {"trial"};
  for (const config::SpaceDimension& dimension : plan.spec.space)
    section.table.columns.push_back(dimension.key);
  for (const char* column : {"fate", "rung reached", "epochs", "result", "at epoch", "run"})
    section.table.columns.emplace_back(column);
  for (const TrialRow& row : table.trials) {
    const SearchTrial& trial = trial_of(plan, v, row.number);
    std::vector<std::string> cells = {std::to_string(row.number) +
                                      (table.best == row.number ? " (best)" : "")};
    for (const auto& [key, value] : trial.values)
      cells.push_back(value_text(value));
    cells.insert(
        cells.end(),
        {fate_name(row.fate), std::to_string(row.rung + 1), std::to_string(row.epochs),
         row.objective ? fixed(*row.objective) : "—",
         row.objective ? std::to_string(row.objective_epoch) : "—", plan.run_of(trial).run_id()});
    section.table.rows.push_back(std::move(cells));
  }
  return section;
}

ReportSection rungs_section(const SearchReport& report, size_t v) {
  const SearchVariant& variant = report.plan.variants[v];
  const VariantTable& table = report.tables[v];
  ReportSection section{
      "Rungs",
      {"Survivors: the trials that went on from the rung, best first, with their results there."},
      {{"rung", "epoch", "entrants", "results", "survivors", "pruned", "failed"}, {}}};
  for (size_t r = 0; r < table.rungs.size(); ++r) {
    const RungRecord& rung = table.rungs[r];
    const bool last = r + 1 == variant.rungs.size();
    size_t failed = 0;
    for (const RungResult& result : rung.results) {
      if (!result.objective) ++failed;
    }
    std::string survivors = "—";
    std::string pruned = "—";
    if (rung.decided && !last) {
      std::vector<std::string> listed;
      for (const size_t k : rung.promoted)
        listed.push_back(fmt::format("{} ({})", k, fixed(rung_result(rung, k).value_or(kNoValue))));
      survivors = fmt::format("{}", fmt::join(listed, ", "));
      pruned = std::to_string(rung.entrants.size() - rung.promoted.size() - failed);
    } else if (rung.decided && table.best) {
      survivors = fmt::format("last rung; best: {}", *table.best);
    } else if (!rung.decided) {
      survivors = "undecided";
    }
    section.table.rows.push_back(
        {std::to_string(r + 1), std::to_string(rung.epoch), std::to_string(rung.entrants.size()),
         std::to_string(rung.results.size()), survivors, pruned, std::to_string(failed)});
  }
  return section;
}

// The comparison's variant of variant `v`'s confirmation runs, if any of them has a config.
std::optional<size_t> compared_variant(const SearchReport& report, size_t v) {
  if (!report.comparison) return std::nullopt;
  for (const size_t i : confirmation_runs_of(report, v)) {
    if (const auto index = variant_index_of(*report.comparison, report.confirmation_runs[i]))
      return index;
  }
  return std::nullopt;
}

ReportSection confirmed_section(const SearchReport& report) {
  const SearchPlan& plan = report.plan;
  ReportSection section{"Confirmed configs", {}, {}};
  if (plan.spec.confirm_seeds == 0) {
    section.paragraphs.push_back(
        "No confirmation: set search.confirm.seeds to train each variant's best trial again "
        "with fresh seeds.");
    return section;
  }
  if (report.confirmation.runs.empty()) {
    section.paragraphs.push_back(
        "Not started: the confirmation runs start once every variant's last rung is decided.");
    return section;
  }
  section.paragraphs.push_back(
      "Each variant's best trial (chosen by its valid objective alone) trained again with fresh "
      "seeds; the test metrics below are those runs', with the statistics of `cadenza compare " +
      (fs::path(plan.runs.name) / "confirm").generic_string() +
      "` (the baseline is the first variant; `cadenza compare` with --baseline picks another).");
  section.table.columns = {"variant", "best trial", "values",     plan.spec.objective.name(),
                           "seeds",   "completed",  "compared as"};
  for (size_t v = 0; v < plan.variants.size(); ++v) {
    const VariantTable& table = report.tables[v];
    if (!table.best) continue;
    const SearchTrial& trial = trial_of(plan, v, *table.best);
    std::vector<std::string> seeds;
    size_t completed = 0;
    for (const size_t i : confirmation_runs_of(report, v)) {
      seeds.push_back(std::to_string(report.confirmation.runs[i].resolved.config.seed));
      if (report.confirmation_runs[i].status == "completed") ++completed;
    }
    const std::optional<size_t> compared = compared_variant(report, v);
    section.table.rows.push_back({plan.variants[v].label, std::to_string(trial.number),
                                  values_label(trial.values),
                                  fixed(table.trials[*table.best].objective.value_or(kNoValue)),
                                  fmt::format("{}", fmt::join(seeds, ", ")),
                                  fmt::format("{} of {}", completed, seeds.size()),
                                  compared ? report.comparison->variants[*compared].label : "—"});
  }
  return section;
}

// The sections of the confirmation's comparison, one level down.
std::vector<ReportSection> comparison_sections(const SearchReport& report) {
  if (!report.comparison || report.comparison->runs_used == 0) return {};
  return {comparison_results_section(*report.comparison),
          comparison_differences_section(*report.comparison)};
}

// --- Charts ---------------------------------------------------------------------------------

// Where a trial stands, as a chart's series: by fate and rung reached.
std::string trial_group(const SearchVariant& variant, const TrialRow& row) {
  switch (row.fate) {
    case TrialFate::kPruned:
      return fmt::format("pruned at rung {} (epoch {})", row.rung + 1, variant.rungs[row.rung]);
    case TrialFate::kFinished:
      return fmt::format("finished (epoch {})", variant.rungs.back());
    case TrialFate::kTraining:
      return fmt::format("training (result at epoch {})", row.objective_epoch);
    case TrialFate::kFailed:
      return "failed";
  }
  return "";
}

svg::ScatterChart objective_scatter(const SearchReport& report, size_t v,
                                    const config::SpaceDimension& dimension) {
  const SearchPlan& plan = report.plan;
  const SearchVariant& variant = plan.variants[v];
  const VariantTable& table = report.tables[v];
  const std::string objective = plan.spec.objective.name();
  const bool log_scale = dimension.kind == config::SpaceKind::kLogUniform ||
                         (dimension.kind == config::SpaceKind::kInt && dimension.log);
  svg::ScatterChart chart{objective + " against " + dimension.key + " — " + variant.label,
                          dimension.key + (log_scale ? " (log scale)" : ""),
                          objective + " (best up to the trial's last rung)",
                          log_scale,
                          {},
                          {}};
  for (const nlohmann::json& choice : dimension.choices)
    chart.categories.push_back(value_text(choice));
  // One series per group, in the order of the rungs (pruned first), the best trial on top.
  std::vector<std::string> groups;
  for (size_t r = 0; r + 1 < variant.rungs.size(); ++r)
    groups.push_back(fmt::format("pruned at rung {} (epoch {})", r + 1, variant.rungs[r]));
  for (const TrialRow& row : table.trials) {
    const std::string group = trial_group(variant, row);
    if (row.objective && std::find(groups.begin(), groups.end(), group) == groups.end()) {
      groups.push_back(group);
    }
  }
  for (const std::string& group : groups)
    chart.series.push_back({group, {}, {}, group.starts_with("pruned")});
  if (table.best) chart.series.push_back({fmt::format("best: trial {}", *table.best), {}, {}});
  const auto position = [&](const nlohmann::json& value) {
    if (dimension.kind != config::SpaceKind::kChoice) return value.get<double>();
    const auto found = std::find(dimension.choices.begin(), dimension.choices.end(), value);
    return static_cast<double>(found - dimension.choices.begin());
  };
  for (const TrialRow& row : table.trials) {
    if (!row.objective) continue;
    const SearchTrial& trial = trial_of(plan, v, row.number);
    const auto value =
        std::find_if(trial.values.begin(), trial.values.end(),
                     [&](const auto& entry) { return entry.first == dimension.key; });
    const auto group = std::find(groups.begin(), groups.end(), trial_group(variant, row));
    svg::ScatterSeries& series = chart.series[static_cast<size_t>(group - groups.begin())];
    series.x.push_back(position(value->second));
    series.y.push_back(*row.objective);
    if (table.best == row.number) {
      chart.series.back().x.push_back(series.x.back());
      chart.series.back().y.push_back(series.y.back());
    }
  }
  std::erase_if(chart.series, [](const svg::ScatterSeries& series) { return series.x.empty(); });
  return chart;
}

svg::LineChart budget_chart(const SearchReport& report, size_t v) {
  const SearchPlan& plan = report.plan;
  const std::string objective = plan.spec.objective.name();
  svg::LineChart chart{"Best " + objective + " against epochs spent — " + plan.variants[v].label,
                       "epochs spent",
                       "best " + objective + " so far",
                       {}};
  svg::Series series{"best " + objective, {}, {}, {}, {}};
  for (const auto& [epochs, best] :
       best_objective_curve(plan.variants[v], report.tables[v], report.progress[v],
                            variant_run_ids(plan, v), plan.spec.objective.minimize)) {
    series.x.push_back(static_cast<double>(epochs));
    series.y.push_back(best);
  }
  chart.series.push_back(std::move(series));
  return chart;
}

std::string variant_title(const SearchReport& report, size_t v) {
  return "Variant " + report.plan.variants[v].label;
}

}  // namespace

SearchReport read_search_report(const SearchPlan& plan, const fs::path& folder) {
  SearchReport report{plan, read_search_progress(plan, folder), {}, {}, {}, std::nullopt};
  report.tables = decide_search(plan, report.progress);
  const bool complete = std::all_of(report.tables.begin(), report.tables.end(),
                                    [](const VariantTable& table) { return table.complete; });
  const fs::path confirm_folder = confirmation_folder(folder);
  if (!complete || !fs::exists(confirm_folder / "sweep.json")) return report;
  report.confirmation = plan_confirmation(plan, report.tables);
  for (const PlannedRun& run : report.confirmation.runs) {
    const fs::path dir = confirm_folder / run.dir;
    RunRecord record;
    if (fs::exists(dir / "config.json")) {
      record = read_run(dir);
    } else {
      record.dir = dir;
      record.run_id = run.run_id();
      record.status = "missing";
      record.status_detail = "not started";
      record.seed = run.resolved.config.seed;
      record.dataset = run.resolved.config.data.dataset;
    }
    record.selection = report.confirmation.selection;
    report.confirmation_runs.push_back(std::move(record));
  }
  if (!report.confirmation_runs.empty()) {
    report.comparison = compare_runs(report.confirmation_runs, CompareOptions{});
  }
  return report;
}

std::string search_report_markdown(const SearchReport& report) {
  std::string md = "# cadenza search " + report.plan.runs.name + "\n\n";
  for (const std::string& paragraph : protocol_paragraphs(report))
    md += paragraph + "\n\n";
  md +=
      "Plots (the objective against each searched key, the best objective against the epochs "
      "spent): report.html.\n\n";
  md += markdown_section(budget_section(report));
  for (size_t v = 0; v < report.plan.variants.size(); ++v) {
    md += markdown_section({variant_title(report, v), {best_text(report, v)}, {}});
    md += markdown_section(trials_section(report, v), 3);
    md += markdown_section(rungs_section(report, v), 3);
  }
  md += markdown_section(confirmed_section(report));
  for (const ReportSection& section : comparison_sections(report))
    md += markdown_section(section, 3);
  return md;
}

std::string search_report_csv(const SearchReport& report) {
  const SearchPlan& plan = report.plan;
  const auto number = [](std::optional<double> value) {
    return value && std::isfinite(*value) ? fmt::format("{}", *value) : std::string();
  };
  size_t rung_count = 0;
  for (const SearchVariant& variant : plan.variants)
    rung_count = std::max(rung_count, variant.rungs.size());
  std::vector<std::string> columns = {"variant", "trial", "run_id"};
  for (const config::SpaceDimension& dimension : plan.spec.space)
    columns.push_back(csv_cell(dimension.key));
  for (const char* column : {"fate", "rung_reached", "epochs", "result", "result_epoch", "best"})
    columns.emplace_back(column);
  for (size_t r = 0; r < rung_count; ++r) {
    columns.push_back(fmt::format("rung_{}_epoch", r + 1));
    columns.push_back(fmt::format("rung_{}_result", r + 1));
  }
  std::string csv = csv_line(columns);
  for (size_t v = 0; v < plan.variants.size(); ++v) {
    const SearchVariant& variant = plan.variants[v];
    const VariantTable& table = report.tables[v];
    for (const TrialRow& row : table.trials) {
      const SearchTrial& trial = trial_of(plan, v, row.number);
      std::vector<std::string> cells = {csv_cell(variant.label), std::to_string(row.number),
                                        plan.run_of(trial).run_id()};
      for (const auto& [key, value] : trial.values)
        cells.push_back(csv_cell(value.is_string() ? value.get<std::string>() : value.dump()));
      cells.insert(cells.end(),
                   {fate_name(row.fate), std::to_string(row.rung + 1), std::to_string(row.epochs),
                    number(row.objective), row.objective ? std::to_string(row.objective_epoch) : "",
                    table.best == row.number ? "true" : "false"});
      for (size_t r = 0; r < rung_count; ++r) {
        const bool entered =
            r < table.rungs.size() && std::binary_search(table.rungs[r].entrants.begin(),
                                                         table.rungs[r].entrants.end(), row.number);
        cells.push_back(r < variant.rungs.size() ? std::to_string(variant.rungs[r]) : "");
        cells.push_back(entered ? number(rung_result(table.rungs[r], row.number)) : "");
      }
      csv += csv_line(cells);
    }
  }
  return csv;
}

std::string search_report_html(const SearchReport& report) {
  const SearchPlan& plan = report.plan;
  const std::string objective = plan.spec.objective.name();
  std::string html = html_page_start("cadenza search " + plan.runs.name);
  for (const std::string& paragraph : protocol_paragraphs(report))
    html += "<p>" + svg::xml_escape(paragraph) + "</p>\n";
  html += html_section(budget_section(report));
  for (size_t v = 0; v < plan.variants.size(); ++v) {
    html += html_section({variant_title(report, v), {best_text(report, v)}, {}});
    for (const config::SpaceDimension& dimension : plan.spec.space) {
      html += html_figure(
          svg::scatter_chart(objective_scatter(report, v, dimension)),
          fmt::format("{} of every trial with a result against its {} ({}): hollow circles are "
                      "trials pruned at the rung named (their result is from that rung's "
                      "epoch, so it is not comparable with a finished trial's); failed trials "
                      "have no point.",
                      objective, dimension.key, config::describe_dimension(dimension)));
    }
    html += html_figure(
        svg::line_chart(budget_chart(report, v)),
        "The best " + objective +
            " of any epoch trained so far, against the epochs the search had spent, counting "
            "them rung by rung and trial by trial (the order of a search with --jobs 1).");
    html += html_section(trials_section(report, v), 3);
    html += html_section(rungs_section(report, v), 3);
  }
  html += html_section(confirmed_section(report));
  for (const ReportSection& section : comparison_sections(report))
    html += html_section(section, 3);
  return html + html_page_end();
}

void write_search_report(const SearchReport& report, const fs::path& folder) {
  fs::create_directories(folder);
  write_file_atomic(folder / "report.md", search_report_markdown(report));
  write_file_atomic(folder / "report.csv", search_report_csv(report));
  write_file_atomic(folder / "report.html", search_report_html(report));
}

}  // namespace cadenza
