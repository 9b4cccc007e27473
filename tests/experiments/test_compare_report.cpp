// compare's report: Markdown header and tables with significance marks, CSV values at full
// precision, a self-contained HTML file whose SVG charts are well-formed XML (checked with
// Python's xml.etree), and the chart helpers.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "experiments/compare.hpp"
#include "experiments/compare_test_util.hpp"
#include "experiments/report.hpp"
#include "experiments/run_collection.hpp"
#include "plot/charts.hpp"
#include "plot/svg_writer.hpp"
#include "support/process.hpp"
#include "sweeps/sweep_test_support.hpp"

namespace cadenza {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::FakeRun;
using testing::parse_as_xml;
using testing::ScratchDir;
using testing::svg_blocks;

// lm (baseline) vs seq2seq (significantly worse nll) vs attention (no significant difference),
// three seeds each, as in test_compare.cpp; plus one failed run.
std::vector<RunRecord> standard_runs(const ScratchDir& dir) {
  const json lm = {{"type", "lm"}, {"attention", "none"}};
  const json seq2seq = {{"type", "seq2seq"}, {"attention", "none"}};
  const json attention = {{"type", "seq2seq"}, {"attention", "general"}};
  const std::vector<std::tuple<std::string, json, int64_t, double>> table = {
      {"lm-1", lm, 1, 8.50},         {"lm-2", lm, 2, 8.60},         {"lm-3", lm, 3, 8.55},
      {"s2s-1", seq2seq, 1, 8.90},   {"s2s-2", seq2seq, 2, 8.95},   {"s2s-3", seq2seq, 3, 9.00},
      {"att-1", attention, 1, 8.40}, {"att-2", attention, 2, 8.70}, {"att-3", attention, 3, 8.52}};
  std::vector<fs::path> dirs;
  for (const auto& [name, model, seed, nll] : table) {
    FakeRun run;
    run.dir_name = name;
    run.model = model;
    run.seed = seed;
    run.test_nll = nll;
    run.valid_nll = {nll + 0.5, nll + 0.2, nll + 0.1 * static_cast<double>(seed)};
    dirs.push_back(write_fake_run(dir.path(), run));
  }
  FakeRun failed;
  failed.dir_name = "att-4";
  failed.model = attention;
  failed.seed = 4;
  failed.status = "failed";
  failed.test_row = false;
  dirs.push_back(write_fake_run(dir.path(), failed));
  return collect_runs(dirs);
}

const std::vector<PublishedNumber>& published() {
  static const std::vector<PublishedNumber> numbers =
      load_published(testing::source_dir() / "results" / "published");
  return numbers;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    lines.push_back(line);
  return lines;
}

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> cells;
  std::string cell;
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
      cell += '"';
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      cells.push_back(cell);
      cell.clear();
    } else {
      cell += c;
    }
  }
  cells.push_back(cell);
  return cells;
}

TEST(CompareReport, MarkdownStatesTheProtocolAndMarksSignificance) {
  ScratchDir dir;
  const Comparison c = compare_runs(standard_runs(dir), {});
  const std::string md = report_markdown({c, {"sweeps/ablation"}, published()});
  for (const char* expected :
       {"Protocol (docs/metrics.md)", "frames 2..T of every sequence", "Compared: sweeps/ablation.",
        "Baseline: model.attention=none, model.type=lm — the first variant",
        "10000 resamples, Philox seed 1", "Runs: 9 in the statistics, 1 left out",
        "| variant | JSB_Chorales nll | JSB_Chorales acc |",
        // seq2seq: 8.95 ± 0.05, t interval 8.95 -+ 0.124207, significantly worse than lm.
        "| model.attention=none, model.type=seq2seq | 8.9500 ± 0.0500 [8.8258, 9.0742] n=3 * |",
        // attention: not significant, no mark.
        "| model.attention=general, model.type=seq2seq | 8.5400 ± 0.1510 [8.1649, 8.9151] n=3 | ",
        "| model.attention=none, model.type=seq2seq | JSB_Chorales | nll | 3 | +0.4000 | "
        "[+0.3500, +0.4500] | 0.0052 | * worse |",
        "| model.attention=general, model.type=seq2seq | JSB_Chorales | nll | 3 | -0.0100 |",
        "| bai2018/lstm | LSTM | JSB_Chorales | 8.45 | yes |", "## Runs not in the statistics",
        "| failed | status 'failed' |"}) {
    EXPECT_NE(md.find(expected), std::string::npos) << "missing: " << expected << "\n" << md;
  }
  EXPECT_EQ(md.find("Nottingham | 3.29"), std::string::npos);  // only the compared datasets
}

TEST(CompareReport, CsvHasOneFullPrecisionRowPerVariantDatasetMetric) {
  ScratchDir dir;
  const Comparison c = compare_runs(standard_runs(dir), {});
  const std::vector<std::string> lines = lines_of(report_csv(c));
  ASSERT_EQ(lines.size(), 1u + 3 * 2);
  const std::vector<std::string> header = split_csv_line(lines[0]);
  EXPECT_EQ(header, (std::vector<std::string>{"variant",
                                              "baseline",
                                              "model.attention",
                                              "model.type",
                                              "dataset",
                                              "metric",
                                              "n",
                                              "mean",
                                              "std",
                                              "ci95_low",
                                              "ci95_high",
                                              "best_epoch_mean",
                                              "train_seconds_mean",
                                              "parameters",
                                              "pairs",
                                              "diff_mean",
                                              "diff_ci95_low",
                                              "diff_ci95_high",
                                              "p_value",
                                              "significant"}));
  std::map<std::string, std::string> baseline_nll, seq2seq_nll;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::vector<std::string> cells = split_csv_line(lines[i]);
    ASSERT_EQ(cells.size(), header.size()) << lines[i];
    std::map<std::string, std::string> row;
    for (std::size_t k = 0; k < header.size(); ++k)
      row[header[k]] = cells[k];
    if (row["metric"] != "nll") continue;
    if (row["model.type"] == "lm") baseline_nll = row;
    if (row["model.type"] == "seq2seq" && row["model.attention"] == "none") seq2seq_nll = row;
  }
  EXPECT_EQ(baseline_nll["variant"], "model.attention=none, model.type=lm");
  EXPECT_EQ(baseline_nll["baseline"], "true");
  EXPECT_EQ(baseline_nll["pairs"], "");  // the baseline is not paired with itself
  EXPECT_NEAR(std::stod(baseline_nll["mean"]), 8.55, 1e-12);
  EXPECT_NEAR(std::stod(baseline_nll["ci95_high"]), 8.55 + 0.12420688559218765, 1e-10);
  EXPECT_NEAR(std::stod(baseline_nll["train_seconds_mean"]), 3.75, 1e-12);
  EXPECT_EQ(seq2seq_nll["n"], "3");
  EXPECT_EQ(seq2seq_nll["pairs"], "3");
  EXPECT_NEAR(std::stod(seq2seq_nll["diff_mean"]), 0.4, 1e-12);
  EXPECT_NEAR(std::stod(seq2seq_nll["p_value"]), 0.0051679932523860563, 1e-12);
  EXPECT_EQ(seq2seq_nll["significant"], "true");
  EXPECT_EQ(seq2seq_nll["parameters"], "");  // fake runs have no checkpoint
}

// The <svg>...</svg> blocks of an HTML document.
TEST(CompareReport, HtmlIsSelfContainedWithWellFormedSvgCharts) {
  ScratchDir dir;
  std::vector<RunRecord> runs = standard_runs(dir);
  // A label with XML's special characters must come out escaped.
  FakeRun odd;
  odd.dir_name = "odd";
  odd.model = {{"type", "lm"}, {"attention", "<&\"'>"}};
  runs.push_back(read_run(write_fake_run(dir.path(), odd)));
  const Comparison c = compare_runs(runs, {});
  const std::string html = report_html({c, {"a & b"}, published()});
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  for (const char* external : {"<script", "src=", "href=", "@import", "url(", "<link"}) {
    EXPECT_EQ(html.find(external), std::string::npos) << external;
  }
  EXPECT_NE(html.find("<style>"), std::string::npos);
  EXPECT_NE(html.find("Compared: a &amp; b."), std::string::npos);
  const std::vector<std::string> blocks = svg_blocks(html);
  ASSERT_EQ(blocks.size(), 2u);  // learning curves and bars for the one dataset
  const testing::CommandResult parsed = parse_as_xml(blocks);
  EXPECT_EQ(parsed.exit_code, 0) << parsed.err;
  EXPECT_EQ(parsed.out, "2\n");
  // Legend, axis labels, escaped label.
  EXPECT_NE(blocks[0].find(">epoch</text>"), std::string::npos);
  EXPECT_NE(blocks[0].find(">valid nll (nats per frame)</text>"), std::string::npos);
  EXPECT_NE(blocks[0].find("model.attention=none, model.type=seq2seq</text>"), std::string::npos);
  EXPECT_NE(blocks[0].find("&lt;&amp;&quot;&apos;&gt;"), std::string::npos);
  EXPECT_EQ(blocks[0].find("<&\"'>"), std::string::npos);
  EXPECT_NE(blocks[0].find("<polygon"), std::string::npos);  // min-max bands
  EXPECT_NE(blocks[1].find("axis starts at"), std::string::npos);
  EXPECT_NE(blocks[1].find(">8.550 (n=3)</text>"), std::string::npos);  // lm's mean beside its bar
}

TEST(CompareReport, WritesTheThreeFiles) {
  ScratchDir dir;
  const Comparison c = compare_runs(standard_runs(dir), {});
  const ReportInputs inputs{c, {"x"}, published()};
  write_report(inputs, dir / "out" / "nested");
  EXPECT_EQ(testing::slurp(dir / "out" / "nested" / "report.md"), report_markdown(inputs));
  EXPECT_EQ(testing::slurp(dir / "out" / "nested" / "report.csv"), report_csv(c));
  EXPECT_EQ(testing::slurp(dir / "out" / "nested" / "report.html"), report_html(inputs));
}

TEST(SvgPlot, NiceTicksAreRoundAndCoverTheRange) {
  EXPECT_EQ(svg::nice_ticks(8.0, 11.0, 6),
            (std::vector<double>{8.0, 8.5, 9.0, 9.5, 10.0, 10.5, 11.0}));
  EXPECT_EQ(svg::nice_ticks(1, 26, 8), (std::vector<double>{0, 5, 10, 15, 20, 25, 30}));
  const std::vector<double> small = svg::nice_ticks(8.42, 8.71, 6);
  EXPECT_LE(small.front(), 8.42);
  EXPECT_GE(small.back(), 8.71);
  EXPECT_NEAR(small[1] - small[0], 0.05, 1e-12);
  EXPECT_EQ(svg::xml_escape("a<b & \"c\" 'd'>"), "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;");
}

TEST(SvgPlot, EmptyAndMissingDataStillDrawWellFormedCharts) {
  const std::string empty = svg::line_chart({"t", "x", "y", {{"only label", {}, {}, {}, {}}}});
  EXPECT_NE(empty.find(">no data</text>"), std::string::npos);
  const double nan = std::nan("");
  const std::string bars =
      svg::bar_chart({"t", "v", {{"a", 1.0, 0.5, 1.5, "n=2"}, {"b", nan, nan, nan, "n=0"}}});
  EXPECT_NE(bars.find(">no completed run</text>"), std::string::npos);
  const testing::CommandResult parsed = parse_as_xml({empty, bars});
  EXPECT_EQ(parsed.exit_code, 0) << parsed.err;
}

TEST(SvgPlot, ScatterChartsMarkHollowSeriesAndUseLogOrCategoryAxes) {
  const svg::ScatterChart log_chart{"lr",
                                    "lr (log scale)",
                                    "valid nll",
                                    true,
                                    {},
                                    {{"pruned", {0.001, 0.004, -1.0}, {9.5, 9.1, 9.0}, true},
                                     {"finished", {0.02}, {8.6}, false}}};
  const std::string log_svg = svg::scatter_chart(log_chart);
  // Two hollow points (the third has x <= 0 on a log axis) and the hollow legend marker.
  EXPECT_EQ(testing::count_occurrences(log_svg, "r=\"4\" fill=\"none\""), 2u + 1) << log_svg;
  EXPECT_EQ(testing::count_occurrences(log_svg, "r=\"4\" fill=\"#"), 1u + 1) << log_svg;
  for (const char* tick :
       {">0.001</text>", ">0.002</text>", ">0.005</text>", ">0.01</text>", ">0.02</text>"}) {
    EXPECT_NE(log_svg.find(tick), std::string::npos) << tick << "\n" << log_svg;
  }
  const svg::ScatterChart categories{"layers", "model.layers",  "valid nll",
                                     false,    {"1", "2", "3"}, {{"all", {0, 2}, {9.0, 8.0}}}};
  const std::string category_svg = svg::scatter_chart(categories);
  for (const char* tick : {">1</text>", ">2</text>", ">3</text>"})
    EXPECT_NE(category_svg.find(tick), std::string::npos) << tick << "\n" << category_svg;
  const std::string empty = svg::scatter_chart({"t", "x", "y", false, {}, {{"none", {}, {}}}});
  EXPECT_NE(empty.find(">no data</text>"), std::string::npos);
  const testing::CommandResult parsed = parse_as_xml({log_svg, category_svg, empty});
  EXPECT_EQ(parsed.exit_code, 0) << parsed.err;
  EXPECT_EQ(parsed.out, "3\n");
}

}  // namespace
}  // namespace cadenza
