#include "experiments/reproduction_verdict.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>

#include "core/error.hpp"
#include "sweeps/run_state.hpp"

namespace cadenza {
namespace fs = std::filesystem;

namespace {

double run_test_nll(const fs::path& folder, const PlannedRun& run) {
  const auto test = test_metrics(folder / run.dir);
  if (!test.is_object() || !test.contains("nll") || !test["nll"].is_number()) {
    throw Error(fmt::format("{}: no test row in metrics.jsonl; is the run completed?",
                            (folder / run.dir).string()));
  }
  return test["nll"].get<double>();
}

// "8.5123 ± 0.0311 (n = 3, 95% CI [8.4351, 8.5895])" or "8.5123 (n = 1)".
std::string describe_summary(const stats::Summary& summary) {
  if (summary.n < 2) return fmt::format("{:.4f} (n = 1, one seed: no spread)", summary.mean);
  return fmt::format("{:.4f} ± {:.4f} (mean ± std over n = {} seeds, 95% CI [{:.4f}, {:.4f}])",
                     summary.mean, summary.std, summary.n, summary.ci.low, summary.ci.high);
}

nlohmann::json finite_or_null(double value) {
  return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
}

}  // namespace

ReproductionVerdict judge_reproduction(const SweepPlan& plan, const fs::path& folder,
                                       const std::vector<size_t>& judged,
                                       const PublishedNumber& published, double tolerance_pct) {
  ReproductionVerdict verdict;
  verdict.published = published;
  verdict.tolerance_pct = tolerance_pct;
  for (size_t i = 0; i < plan.runs.size(); ++i) {
    const PlannedRun& run = plan.runs[i];
    auto found = std::find_if(verdict.variants.begin(), verdict.variants.end(),
                              [&](const VariantTestNll& v) { return v.variant == run.variant; });
    if (found == verdict.variants.end()) {
      verdict.variants.push_back({run.variant, {}, {}, {}, false});
      found = std::prev(verdict.variants.end());
    }
    found->seeds.push_back(run.resolved.config.seed);
    found->test_nll.push_back(run_test_nll(folder, run));
    if (std::find(judged.begin(), judged.end(), i) != judged.end()) {
      found->judged = true;
      verdict.judged = static_cast<size_t>(found - verdict.variants.begin());
    }
  }
  for (auto& variant : verdict.variants)
    variant.summary = stats::summarize(variant.test_nll);
  const double ours = verdict.variants[verdict.judged].summary.mean;
  verdict.difference = ours - published.value;
  verdict.relative_pct = 100.0 * verdict.difference / published.value;
  verdict.within = std::abs(verdict.relative_pct) <= tolerance_pct;
  return verdict;
}

std::string format_verdict(const Reproduction& reproduction, const ReproductionVerdict& verdict) {
  const PublishedNumber& published = verdict.published;
  const VariantTestNll& ours = verdict.variants[verdict.judged];
  std::string text =
      fmt::format("reproduce {}: {} on {}, {} (nats per frame, lower is better)\n",
                  reproduction.name, published.model, published.dataset, published.metric);
  text += fmt::format("  published   {:.4f}  {} [{}]; {}\n", published.value, published.id,
                      published.verified ? "verified" : "NOT verified against the source",
                      published.citation);
  text += fmt::format("              {}\n", published.table);
  std::vector<std::string> seeds;
  for (size_t i = 0; i < ours.seeds.size(); ++i)
    seeds.push_back(fmt::format("seed {}: {:.4f}", ours.seeds[i], ours.test_nll[i]));
  text += fmt::format("  ours        {}\n              {}{}\n", describe_summary(ours.summary),
                      verdict.variants.size() > 1 ? ours.variant + ": " : std::string(),
                      fmt::join(seeds, ", "));
  text += fmt::format("  difference  {:+.4f} ({:+.2f}%), tolerance ±{:.2f}%\n", verdict.difference,
                      verdict.relative_pct, verdict.tolerance_pct);
  if (verdict.within) {
    text += fmt::format("  verdict     REPRODUCED: within ±{:.2f}% of the published number\n",
                        verdict.tolerance_pct);
  } else {
    text += fmt::format(
        "  verdict     MISSED: {} than the published number by {:.2f}%, outside "
        "±{:.2f}%\n",
        verdict.difference > 0 ? "worse" : "better", std::abs(verdict.relative_pct),
        verdict.tolerance_pct);
  }
  if (verdict.variants.size() > 1) {
    text += "  every variant of the sweep (* = judged):\n";
    for (const auto& variant : verdict.variants) {
      text += fmt::format("    {} {}: {}, {:+.2f}% vs published\n", variant.judged ? "*" : " ",
                          variant.variant, describe_summary(variant.summary),
                          100.0 * (variant.summary.mean - published.value) / published.value);
    }
  }
  return text;
}

nlohmann::json verdict_json(const Reproduction& reproduction, const ReproductionVerdict& verdict) {
  const VariantTestNll& ours = verdict.variants[verdict.judged];
  return {{"name", reproduction.name},
          {"published",
           {{"id", verdict.published.id},
            {"dataset", verdict.published.dataset},
            {"metric", verdict.published.metric},
            {"value", verdict.published.value},
            {"verified", verdict.published.verified}}},
          {"ours",
           {{"variant", ours.variant},
            {"seeds", ours.seeds},
            {"test_nll", ours.test_nll},
            {"n", ours.summary.n},
            {"mean", ours.summary.mean},
            {"std", finite_or_null(ours.summary.std)}}},
          {"difference", verdict.difference},
          {"relative_pct", verdict.relative_pct},
          {"tolerance_pct", verdict.tolerance_pct},
          {"within", verdict.within}};
}

}  // namespace cadenza
