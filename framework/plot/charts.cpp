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

// A tick of an axis: where it is (in the axis's data units, log10 of the value on a log axis)
// and what it says.
struct AxisTick {
  double at;
  std::string text;
};

std::vector<AxisTick> numeric_ticks(const std::vector<double>& ticks) {
  const int decimals = tick_decimals(ticks);
  std::vector<AxisTick> labelled;
  for (const double t : ticks)
    labelled.push_back({t, tick_text(t, decimals)});
  return labelled;
}

// Ticks of a log axis over the log10 range `range` (with a margin): the powers of ten, else 1, 2
// and 5 times them, else every integer multiple, whichever first puts three inside; the axis ends
// at the range.
std::vector<AxisTick> log_ticks(Range range) {
  if (range.empty()) range = {0.0, 1.0};
  // A margin of 4% of the span (at least 0.05 decades) on each side, so no point sits on the frame.
  const double margin = std::max(0.04 * (range.high - range.low), 0.05);
  range = {range.low - margin, range.high + margin};
  for (const std::vector<double>& multiples :
       std::vector<std::vector<double>>{{1}, {1, 2, 5}, {1, 2, 3, 4, 5, 6, 7, 8, 9}}) {
    std::vector<AxisTick> ticks;
    for (int power = static_cast<int>(std::floor(range.low)) - 1;
         power <= static_cast<int>(std::ceil(range.high)); ++power) {
      for (const double multiple : multiples) {
        const double at = std::log10(multiple) + power;
        if (at < range.low - 1e-9 || at > range.high + 1e-9) continue;
        ticks.push_back({at, fmt::format("{:g}", multiple * std::pow(10.0, power))});
      }
    }
    if (ticks.size() >= 3 || multiples.size() == 9) {
      // The axis ends at the data's range (a log axis has no round ends that stay close to it).
      ticks.insert(ticks.begin(), {range.low, ""});
      ticks.push_back({range.high, ""});
      return ticks;
    }
  }
  return {};
}

// The frame shared by the line and scatter charts: a plot area with its axes on the left and
// bottom, the legend on the right. Ticks are sorted; the first and last span the axis.
struct PlotFrame {
  static constexpr double kLeft = 78, kTop = 40, kPlotWidth = 560, kPlotHeight = 320, kBottom = 58;

  PlotFrame(const std::string& title, const std::vector<std::string>& legend_labels,
            std::vector<AxisTick> x_axis, std::vector<AxisTick> y_axis)
      : x_ticks(std::move(x_axis)),
        y_ticks(std::move(y_axis)),
        sx{x_ticks.front().at, x_ticks.back().at, kLeft, kLeft + kPlotWidth},
        sy{y_ticks.front().at, y_ticks.back().at, kTop + kPlotHeight, kTop},
        svg(chart_document(width_for(legend_labels), height_for(legend_labels), title)) {}

  // Grid lines and labels of the ticks, the frame, the axis labels, and "no data" when asked.
  void draw_axes(const std::string& x_label, const std::string& y_label, bool no_data) {
    const auto c = svg_coordinate;
    for (const AxisTick& t : y_ticks) {
      svg.element("line", {{"x1", c(kLeft)},
                           {"y1", c(sy(t.at))},
                           {"x2", c(kLeft + kPlotWidth)},
                           {"y2", c(sy(t.at))},
                           {"stroke", "#e3e3e3"}});
      svg.element("text", {{"x", c(kLeft - 6)}, {"y", c(sy(t.at) + 4)}, {"text-anchor", "end"}},
                  t.text);
    }
    for (const AxisTick& t : x_ticks) {
      if (t.text.empty()) continue;
      svg.element("line", {{"x1", c(sx(t.at))},
                           {"y1", c(kTop + kPlotHeight)},
                           {"x2", c(sx(t.at))},
                           {"y2", c(kTop + kPlotHeight + 5)},
                           {"stroke", "#333333"}});
      svg.element(
          "text",
          {{"x", c(sx(t.at))}, {"y", c(kTop + kPlotHeight + 19)}, {"text-anchor", "middle"}},
          t.text);
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
                x_label);
    svg.element(
        "text",
        {{"x", "0"},
         {"y", "0"},
         {"text-anchor", "middle"},
         {"transform", fmt::format("translate(18 {:.1f}) rotate(-90)", kTop + kPlotHeight / 2)}},
        y_label);
    if (no_data) {
      svg.element("text",
                  {{"x", c(kLeft + kPlotWidth / 2)},
                   {"y", c(kTop + kPlotHeight / 2)},
                   {"text-anchor", "middle"},
                   {"fill", "#777777"}},
                  "no data");
    }
  }

  // The left end (x) and middle (y) of legend entry `index`.
  std::pair<double, double> legend_position(std::size_t index) const {
    return {kLeft + kPlotWidth + 24, kTop + 10 + 20.0 * static_cast<double>(index)};
  }

  std::vector<AxisTick> x_ticks, y_ticks;
  Scale sx, sy;
  SvgWriter svg;

 private:
  static double width_for(const std::vector<std::string>& legend_labels) {
    double legend_width = 0;
    for (const std::string& label : legend_labels)
      legend_width = std::max(legend_width, 34 + text_width(label));
    return kLeft + kPlotWidth + 24 + legend_width + 12;
  }
  static double height_for(const std::vector<std::string>& legend_labels) {
    const double legend_height = 20.0 * static_cast<double>(legend_labels.size());
    return std::max(kTop + kPlotHeight + kBottom, kTop + legend_height + 20);
  }
};

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
  std::vector<std::string> labels;
  Range x_range, y_range;
  bool integer_x = true;
  for (const Series& series : chart.series) {
    labels.push_back(series.label);
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
  PlotFrame frame(chart.title, labels, numeric_ticks(axis_ticks(x_range, 8, integer_x)),
                  numeric_ticks(axis_ticks(y_range, 6, false)));
  frame.draw_axes(chart.x_label, chart.y_label, x_range.empty());
  SvgWriter& svg = frame.svg;
  const Scale& sx = frame.sx;
  const Scale& sy = frame.sy;
  const auto c = svg_coordinate;
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
    const auto [legend_x, legend_y] = frame.legend_position(s);
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

std::string scatter_chart(const ScatterChart& chart) {
  std::vector<std::string> labels;
  Range x_range, y_range;
  for (const ScatterSeries& series : chart.series) {
    labels.push_back(series.label);
    for (std::size_t i = 0; i < series.x.size(); ++i) {
      const bool plotted = std::isfinite(series.y[i]) && (!chart.log_x || series.x[i] > 0);
      if (!plotted) continue;
      x_range.add(chart.log_x ? std::log10(series.x[i]) : series.x[i]);
      y_range.add(series.y[i]);
    }
  }
  std::vector<AxisTick> x_ticks;
  if (!chart.categories.empty()) {
    for (std::size_t i = 0; i < chart.categories.size(); ++i)
      x_ticks.push_back({static_cast<double>(i), chart.categories[i]});
    // Half a category of margin on each side, so that the first and last are not on the frame.
    x_ticks.insert(x_ticks.begin(), {-0.5, ""});
    x_ticks.push_back({static_cast<double>(chart.categories.size()) - 0.5, ""});
  } else if (chart.log_x) {
    x_ticks = log_ticks(x_range);
  } else {
    x_ticks = numeric_ticks(axis_ticks(x_range, 8, false));
  }
  PlotFrame frame(chart.title, labels, x_ticks, numeric_ticks(axis_ticks(y_range, 6, false)));
  frame.draw_axes(chart.x_label, chart.y_label, x_range.empty());
  SvgWriter& svg = frame.svg;
  const auto c = svg_coordinate;
  const auto marker = [&](double x, double y, const std::string& colour, bool hollow) {
    if (hollow) {
      svg.element("circle", {{"cx", c(x)},
                             {"cy", c(y)},
                             {"r", "4"},
                             {"fill", "none"},
                             {"stroke", colour},
                             {"stroke-width", "1.5"}});
    } else {
      svg.element("circle", {{"cx", c(x)}, {"cy", c(y)}, {"r", "4"}, {"fill", colour}});
    }
  };
  for (std::size_t s = 0; s < chart.series.size(); ++s) {
    const ScatterSeries& series = chart.series[s];
    const std::string& colour = palette_colour(s);
    for (std::size_t i = 0; i < series.x.size(); ++i) {
      if (!std::isfinite(series.y[i]) || (chart.log_x && !(series.x[i] > 0))) continue;
      marker(frame.sx(chart.log_x ? std::log10(series.x[i]) : series.x[i]), frame.sy(series.y[i]),
             colour, series.hollow);
    }
    const auto [legend_x, legend_y] = frame.legend_position(s);
    marker(legend_x + 12, legend_y, colour, series.hollow);
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
