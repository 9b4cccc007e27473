#include "plot/charts.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace cadenza::svg {
namespace {

constexpr double kCharWidth = 6.6;  // average glyph width of 12px sans-serif, for layout
constexpr double kFontSize = 12.0;
constexpr const char* kFont = "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\"";

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

std::string header(double width, double height, const std::string& title) {
  return fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0:.0f}\" height=\"{1:.0f}\" "
      "viewBox=\"0 0 {0:.0f} {1:.0f}\" role=\"img\" aria-label=\"{2}\" {3} font-size=\"{4}\">\n"
      "<rect x=\"0\" y=\"0\" width=\"{0:.0f}\" height=\"{1:.0f}\" fill=\"#ffffff\"/>\n"
      "<text x=\"{5:.1f}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\" "
      "font-weight=\"bold\">{2}</text>\n",
      width, height, xml_escape(title), kFont, kFontSize, width / 2.0);
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

std::string polyline(const std::vector<std::pair<double, double>>& points,
                     const std::string& colour) {
  std::string coordinates;
  for (const auto& [x, y] : points)
    coordinates += fmt::format("{:.1f},{:.1f} ", x, y);
  return fmt::format(
      "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\" "
      "stroke-linejoin=\"round\"/>\n",
      coordinates, colour);
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

std::string xml_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
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

  std::string svg = header(width, height, chart.title);
  const int y_decimals = tick_decimals(y_ticks);
  for (const double t : y_ticks) {
    svg += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"#e3e3e3\"/>\n"
        "<text x=\"{3:.1f}\" y=\"{4:.1f}\" text-anchor=\"end\">{5}</text>\n",
        kLeft, sy(t), kLeft + kPlotWidth, kLeft - 6, sy(t) + 4, tick_text(t, y_decimals));
  }
  const int x_decimals = tick_decimals(x_ticks);
  for (const double t : x_ticks) {
    svg += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#333333\"/>\n"
        "<text x=\"{0:.1f}\" y=\"{3:.1f}\" text-anchor=\"middle\">{4}</text>\n",
        sx(t), kTop + kPlotHeight, kTop + kPlotHeight + 5, kTop + kPlotHeight + 19,
        tick_text(t, x_decimals));
  }
  svg += fmt::format(
      "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"none\" "
      "stroke=\"#333333\"/>\n",
      kLeft, kTop, kPlotWidth, kPlotHeight);
  svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n",
                     kLeft + kPlotWidth / 2, kTop + kPlotHeight + 42, xml_escape(chart.x_label));
  svg += fmt::format(
      "<text x=\"0\" y=\"0\" text-anchor=\"middle\" transform=\"translate(18 {:.1f}) "
      "rotate(-90)\">{}</text>\n",
      kTop + kPlotHeight / 2, xml_escape(chart.y_label));
  if (no_data) {
    svg += fmt::format(
        "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" fill=\"#777777\">no data</text>\n",
        kLeft + kPlotWidth / 2, kTop + kPlotHeight / 2);
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
        svg += fmt::format(
            "<polygon points=\"{}{}\" fill=\"{}\" fill-opacity=\"0.18\" stroke=\"none\"/>\n", upper,
            lower, colour);
      }
    }
    std::vector<std::pair<double, double>> segment;
    for (std::size_t i = 0; i <= series.x.size(); ++i) {
      if (i < series.x.size() && std::isfinite(series.y[i])) {
        segment.emplace_back(sx(series.x[i]), sy(series.y[i]));
        continue;
      }
      if (!segment.empty()) svg += polyline(segment, colour);
      if (series.x.size() <= 40) {
        for (const auto& [px, py] : segment) {
          svg += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.5\" fill=\"{}\"/>\n", px,
                             py, colour);
        }
      }
      segment.clear();
    }
    const double legend_y = kTop + 10 + 20.0 * static_cast<double>(s);
    const double legend_x = kLeft + kPlotWidth + 24;
    svg += fmt::format(
        "<rect x=\"{0:.1f}\" y=\"{1:.1f}\" width=\"24\" height=\"10\" fill=\"{2}\" "
        "fill-opacity=\"0.18\"/>\n"
        "<line x1=\"{0:.1f}\" y1=\"{3:.1f}\" x2=\"{4:.1f}\" y2=\"{3:.1f}\" stroke=\"{2}\" "
        "stroke-width=\"2\"/>\n"
        "<text x=\"{5:.1f}\" y=\"{6:.1f}\">{7}</text>\n",
        legend_x, legend_y - 5, colour, legend_y, legend_x + 24, legend_x + 30, legend_y + 4,
        xml_escape(series.label));
  }
  return svg + "</svg>\n";
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

  std::string svg = header(width, height, chart.title);
  for (const double t : ticks) {
    svg += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#e3e3e3\"/>\n"
        "<text x=\"{0:.1f}\" y=\"{3:.1f}\" text-anchor=\"middle\">{4}</text>\n",
        sx(t), kTop, kTop + plot_height + 5, kTop + plot_height + 19, tick_text(t, decimals));
  }
  svg += fmt::format(
      "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"none\" "
      "stroke=\"#333333\"/>\n",
      left, kTop, kPlotWidth, plot_height);
  const std::string axis_note =
      ticks.front() == 0.0
          ? ""
          : fmt::format("; axis starts at {}, not 0", tick_text(ticks.front(), decimals));
  svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n",
                     left + kPlotWidth / 2, kTop + plot_height + 42,
                     xml_escape(chart.value_label + axis_note));

  for (std::size_t b = 0; b < chart.bars.size(); ++b) {
    const Bar& bar = chart.bars[b];
    const double top = kTop + kGap + static_cast<double>(b) * (kBarHeight + kGap);
    const double middle = top + kBarHeight / 2;
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", left - 8,
                       middle + 4, xml_escape(bar.label));
    if (!std::isfinite(bar.value)) {
      svg +=
          fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" fill=\"#777777\">no completed run</text>\n",
                      left + 8, middle + 4);
      continue;
    }
    const std::string& colour = palette_colour(b);
    svg += fmt::format(
        "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\" "
        "fill-opacity=\"0.75\"/>\n",
        left, top, std::max(0.0, sx(bar.value) - left), kBarHeight, colour);
    double text_x = sx(bar.value);
    if (std::isfinite(bar.low) && std::isfinite(bar.high)) {
      svg += fmt::format(
          "<line x1=\"{0:.1f}\" y1=\"{2:.1f}\" x2=\"{1:.1f}\" y2=\"{2:.1f}\" stroke=\"#222222\" "
          "stroke-width=\"1.5\"/>\n"
          "<line x1=\"{0:.1f}\" y1=\"{3:.1f}\" x2=\"{0:.1f}\" y2=\"{4:.1f}\" stroke=\"#222222\" "
          "stroke-width=\"1.5\"/>\n"
          "<line x1=\"{1:.1f}\" y1=\"{3:.1f}\" x2=\"{1:.1f}\" y2=\"{4:.1f}\" stroke=\"#222222\" "
          "stroke-width=\"1.5\"/>\n",
          sx(bar.low), sx(bar.high), middle, middle - 6, middle + 6);
      text_x = std::max(text_x, sx(bar.high));
    }
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\">{}{}</text>\n", text_x + 6, middle + 4,
                       tick_text(bar.value, std::max(decimals + 1, 3)),
                       bar.note.empty() ? "" : " (" + xml_escape(bar.note) + ")");
  }
  return svg + "</svg>\n";
}

}  // namespace cadenza::svg
