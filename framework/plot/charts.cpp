#include "plot/charts.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "plot/svg_writer.hpp"

namespace cadenza::svg {
namespace {

constexpr double kCharWidth = 6.6;  // average glyph width of 12px sans-serif, for layout
constexpr double kFontSize = 12.0;
constexpr const char* kFont = "DejaVu Sans, Helvetica, Arial, sans-serif";

struct Range {
  double low = std::numeric_limits<double>::infinity();
  double high = -std::numeric_limits<double>::infinity();
  void add(double v) {
    if (!std::isfinite(v)) return;
    low = std::min(low, v);
    high = std::max(high, v);
  }
  bool empty() const { return low > high; }
};

double text_width(const std::string& text) {
  return kCharWidth * static_cast<double>(text.size());
}

// Decimals that show every tick of `step` distinctly.
int tick_decimals(const std::vector<double>& ticks) {
  if (ticks.size() < 2) return 2;
  const double step = ticks[1] - ticks[0];
  return std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
}

std::string tick_text(double value, int decimals) {
  if (std::abs(value) < 1e-12) value = 0.0;  // no "-0.0"
  return fmt::format("{:.{}f}", value, decimals);
}

// A chart's document: white background and the bold title centred on top.
SvgWriter chart_document(double width, double height, const std::string& title) {
  SvgWriter svg(width, height,
                {{"role", "img"},
                 {"aria-label", title},
                 {"font-family", kFont},
                 {"font-size", fmt::format("{}", kFontSize)}});
  svg.element("rect", {{"x", "0"},
                       {"y", "0"},
                       {"width", fmt::format("{:.0f}", width)},
                       {"height", fmt::format("{:.0f}", height)},
                       {"fill", "#ffffff"}});
  svg.element("text",
              {{"x", svg_coordinate(width / 2.0)},
               {"y", "22"},
               {"text-anchor", "middle"},
               {"font-size", "15"},
               {"font-weight", "bold"}},
              title);
  return svg;
}

// Maps data values to pixels along one axis.
struct Scale {
  double data_low, data_high, pixel_low, pixel_high;
  double operator()(double v) const {
    return pixel_low + (v - data_low) / (data_high - data_low) * (pixel_high - pixel_low);
  }
};

// Ticks spanning `range` (widened when it is a single value), integer steps when asked.
std::vector<double> axis_ticks(Range range, int target, bool integer_steps) {
  if (range.empty()) range = {0.0, 1.0};
  if (range.low == range.high) {
    const double pad = std::max(std::abs(range.low) * 0.01, integer_steps ? 1.0 : 1e-3);
    range = {range.low - pad, range.high + pad};
  }
  std::vector<double> ticks = nice_ticks(range.low, range.high, target);
  if (integer_steps && ticks.size() >= 2 && ticks[1] - ticks[0] < 1.0) {
    ticks.clear();
    for (double t = std::floor(range.low); t <= std::ceil(range.high) + 0.5; t += 1.0)
      ticks.push_back(t);
  }
  return ticks;
}

void polyline(SvgWriter& svg, const std::vector<std::pair<double, double>>& points,
              const std::string& colour) {
  std::string coordinates;
  for (const auto& [x, y] : points)
    coordinates += fmt::format("{:.1f},{:.1f} ", x, y);
  svg.element("polyline", {{"points", coordinates},
                           {"fill", "none"},
                           {"stroke", colour},
                           {"stroke-width", "2"},
                           {"stroke-linejoin", "round"}});
}

}  // namespace

const std::string& palette_colour(std::size_t index) {
  // Okabe & Ito's colour-blind-safe palette (without yellow, too light on white), then Tableau.
  static const std::vector<std::string> kPalette = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                                    "#E69F00", "#56B4E9", "#000000", "#8C564B",
                                                    "#7F7F7F", "#BCBD22"};
  return kPalette[index % kPalette.size()];
}

std::vector<double> nice_ticks(double low, double high, int target) {
  if (!(high > low) || target < 1) return {low};
  const double raw_step = (high - low) / target;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw_step)));
  double step = magnitude;
  for (const double factor : {1.0, 2.0, 5.0, 10.0}) {
    step = factor * magnitude;
    if (step >= raw_step) break;
  }
  std::vector<double> ticks;
  const double first = std::floor(low / step + 1e-9) * step;
  const double last = std::ceil(high / step - 1e-9) * step;
  for (double t = first; t <= last + step * 1e-6; t += step)
    ticks.push_back(std::round(t / step) * step);
  return ticks;
}

std::string line_chart(const LineChart& chart) {
  constexpr double kLeft = 78, kTop = 40, kPlotWidth = 560, kPlotHeight = 320, kBottom = 58;
  double legend_width = 0;
  for (const Series& series : chart.series)
    legend_width = std::max(legend_width, 34 + text_width(series.label));
  const double legend_height = 20.0 * static_cast<double>(chart.series.size());
  const double width = kLeft + kPlotWidth + 24 + legend_width + 12;
  const double height = std::max(kTop + kPlotHeight + kBottom, kTop + legend_height + 20);

  Range x_range, y_range;
  bool integer_x = true;
  for (const Series& series : chart.series) {
    for (std::size_t i = 0; i < series.x.size(); ++i) {
      if (!std::isfinite(series.y[i])) continue;
      x_range.add(series.x[i]);
      integer_x = integer_x && series.x[i] == std::floor(series.x[i]);
      y_range.add(series.y[i]);
      if (!series.low.empty()) {
        y_range.add(series.low[i]);
        y_range.add(series.high[i]);
      }
    }
  }
  const bool no_data = x_range.empty();
  const std::vector<double> x_ticks = axis_ticks(x_range, 8, integer_x);
  const std::vector<double> y_ticks = axis_ticks(y_range, 6, false);
  const Scale sx{x_ticks.front(), x_ticks.back(), kLeft, kLeft + kPlotWidth};
  const Scale sy{y_ticks.front(), y_ticks.back(), kTop + kPlotHeight, kTop};

  SvgWriter svg = chart_document(width, height, chart.title);
  const auto c = svg_coordinate;
  const int y_decimals = tick_decimals(y_ticks);
  for (const double t : y_ticks) {
    svg.element("line", {{"x1", c(kLeft)},
                         {"y1", c(sy(t))},
                         {"x2", c(kLeft + kPlotWidth)},
                         {"y2", c(sy(t))},
                         {"stroke", "#e3e3e3"}});
    svg.element("text", {{"x", c(kLeft - 6)}, {"y", c(sy(t) + 4)}, {"text-anchor", "end"}},
                tick_text(t, y_decimals));
  }
  const int x_decimals = tick_decimals(x_ticks);
  for (const double t : x_ticks) {
    svg.element("line", {{"x1", c(sx(t))},
                         {"y1", c(kTop + kPlotHeight)},
                         {"x2", c(sx(t))},
                         {"y2", c(kTop + kPlotHeight + 5)},
                         {"stroke", "#333333"}});
    svg.element("text",
                {{"x", c(sx(t))}, {"y", c(kTop + kPlotHeight + 19)}, {"text-anchor", "middle"}},
                tick_text(t, x_decimals));
  }
  svg.element("rect", {{"x", c(kLeft)},
                       {"y", c(kTop)},
                       {"width", c(kPlotWidth)},
                       {"height", c(kPlotHeight)},
                       {"fill", "none"},
                       {"stroke", "#333333"}});
  svg.element("text",
              {{"x", c(kLeft + kPlotWidth / 2)},
               {"y", c(kTop + kPlotHeight + 42)},
               {"text-anchor", "middle"}},
              chart.x_label);
  svg.element(
      "text",
      {{"x", "0"},
       {"y", "0"},
       {"text-anchor", "middle"},
       {"transform", fmt::format("translate(18 {:.1f}) rotate(-90)", kTop + kPlotHeight / 2)}},
      chart.y_label);
  if (no_data) {
    svg.element("text",
                {{"x", c(kLeft + kPlotWidth / 2)},
                 {"y", c(kTop + kPlotHeight / 2)},
                 {"text-anchor", "middle"},
                 {"fill", "#777777"}},
                "no data");
  }

  for (std::size_t s = 0; s < chart.series.size(); ++s) {
    const Series& series = chart.series[s];
    const std::string& colour = palette_colour(s);
    if (!series.low.empty()) {
      std::string upper, lower;
      for (std::size_t i = 0; i < series.x.size(); ++i) {
        if (!std::isfinite(series.low[i]) || !std::isfinite(series.high[i])) continue;
        upper += fmt::format("{:.1f},{:.1f} ", sx(series.x[i]), sy(series.high[i]));
        lower = fmt::format("{:.1f},{:.1f} ", sx(series.x[i]), sy(series.low[i])) + lower;
      }
      if (!upper.empty()) {
        svg.element("polygon", {{"points", upper + lower},
                                {"fill", colour},
                                {"fill-opacity", "0.18"},
                                {"stroke", "none"}});
      }
    }
    std::vector<std::pair<double, double>> segment;
    for (std::size_t i = 0; i <= series.x.size(); ++i) {
      if (i < series.x.size() && std::isfinite(series.y[i])) {
        segment.emplace_back(sx(series.x[i]), sy(series.y[i]));
        continue;
      }
      if (!segment.empty()) polyline(svg, segment, colour);
      if (series.x.size() <= 40) {
        for (const auto& [px, py] : segment)
          svg.element("circle", {{"cx", c(px)}, {"cy", c(py)}, {"r", "2.5"}, {"fill", colour}});
      }
      segment.clear();
    }
    const double legend_y = kTop + 10 + 20.0 * static_cast<double>(s);
    const double legend_x = kLeft + kPlotWidth + 24;
    svg.element("rect", {{"x", c(legend_x)},
                         {"y", c(legend_y - 5)},
                         {"width", "24"},
                         {"height", "10"},
                         {"fill", colour},
                         {"fill-opacity", "0.18"}});
    svg.element("line", {{"x1", c(legend_x)},
                         {"y1", c(legend_y)},
                         {"x2", c(legend_x + 24)},
                         {"y2", c(legend_y)},
                         {"stroke", colour},
                         {"stroke-width", "2"}});
    svg.element("text", {{"x", c(legend_x + 30)}, {"y", c(legend_y + 4)}}, series.label);
  }
  return svg.finish();
}

std::string bar_chart(const BarChart& chart) {
  constexpr double kTop = 40, kBarHeight = 22, kGap = 12, kPlotWidth = 440, kRight = 150;
  constexpr double kBottom = 56;
  double label_width = 60;
  for (const Bar& bar : chart.bars)
    label_width = std::max(label_width, text_width(bar.label) + 16);
  const double left = label_width;
  const double plot_height = static_cast<double>(chart.bars.size()) * (kBarHeight + kGap) + kGap;
  const double width = left + kPlotWidth + kRight;
  const double height = kTop + plot_height + kBottom;

  Range range;
  for (const Bar& bar : chart.bars) {
    range.add(bar.value);
    range.add(bar.low);
    range.add(bar.high);
  }
  if (!range.empty()) {
    const double pad = std::max((range.high - range.low) * 0.15, std::abs(range.high) * 0.002);
    range = {range.low - pad, range.high + pad};
  }
  const std::vector<double> ticks = axis_ticks(range, 6, false);
  const Scale sx{ticks.front(), ticks.back(), left, left + kPlotWidth};
  const int decimals = tick_decimals(ticks);

  SvgWriter svg = chart_document(width, height, chart.title);
  const auto c = svg_coordinate;
  for (const double t : ticks) {
    svg.element("line", {{"x1", c(sx(t))},
                         {"y1", c(kTop)},
                         {"x2", c(sx(t))},
                         {"y2", c(kTop + plot_height + 5)},
                         {"stroke", "#e3e3e3"}});
    svg.element("text",
                {{"x", c(sx(t))}, {"y", c(kTop + plot_height + 19)}, {"text-anchor", "middle"}},
                tick_text(t, decimals));
  }
  svg.element("rect", {{"x", c(left)},
                       {"y", c(kTop)},
                       {"width", c(kPlotWidth)},
                       {"height", c(plot_height)},
                       {"fill", "none"},
                       {"stroke", "#333333"}});
  const std::string axis_note =
      ticks.front() == 0.0
          ? ""
          : fmt::format("; axis starts at {}, not 0", tick_text(ticks.front(), decimals));
  svg.element("text",
              {{"x", c(left + kPlotWidth / 2)},
               {"y", c(kTop + plot_height + 42)},
               {"text-anchor", "middle"}},
              chart.value_label + axis_note);

  for (std::size_t b = 0; b < chart.bars.size(); ++b) {
    const Bar& bar = chart.bars[b];
    const double top = kTop + kGap + static_cast<double>(b) * (kBarHeight + kGap);
    const double middle = top + kBarHeight / 2;
    svg.element("text", {{"x", c(left - 8)}, {"y", c(middle + 4)}, {"text-anchor", "end"}},
                bar.label);
    if (!std::isfinite(bar.value)) {
      svg.element("text", {{"x", c(left + 8)}, {"y", c(middle + 4)}, {"fill", "#777777"}},
                  "no completed run");
      continue;
    }
    const std::string& colour = palette_colour(b);
    svg.element("rect", {{"x", c(left)},
                         {"y", c(top)},
                         {"width", c(std::max(0.0, sx(bar.value) - left))},
                         {"height", c(kBarHeight)},
                         {"fill", colour},
                         {"fill-opacity", "0.75"}});
    double text_x = sx(bar.value);
    if (std::isfinite(bar.low) && std::isfinite(bar.high)) {
      const auto error_line = [&](double x1, double y1, double x2, double y2) {
        svg.element("line", {{"x1", c(x1)},
                             {"y1", c(y1)},
                             {"x2", c(x2)},
                             {"y2", c(y2)},
                             {"stroke", "#222222"},
                             {"stroke-width", "1.5"}});
      };
      error_line(sx(bar.low), middle, sx(bar.high), middle);
      error_line(sx(bar.low), middle - 6, sx(bar.low), middle + 6);
      error_line(sx(bar.high), middle - 6, sx(bar.high), middle + 6);
      text_x = std::max(text_x, sx(bar.high));
    }
    svg.element("text", {{"x", c(text_x + 6)}, {"y", c(middle + 4)}},
                tick_text(bar.value, std::max(decimals + 1, 3)) +
                    (bar.note.empty() ? "" : " (" + bar.note + ")"));
  }
  return svg.finish();
}

}  // namespace cadenza::svg
