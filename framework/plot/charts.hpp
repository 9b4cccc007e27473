// Self-contained SVG charts for reports: no scripts, no external fonts or images; every text is
// XML-escaped, so each chart is a well-formed XML document that can be inlined in HTML.
#pragma once

#include <string>
#include <vector>

namespace cadenza::svg {

// One line of a line chart: y(x) drawn as a line, with a shaded band [low, high] around it.
struct Series {
  std::string label;
  std::vector<double> x;
  std::vector<double> y;
  std::vector<double> low;  // same length as x (the band), or empty for no band
  std::vector<double> high;
};

struct LineChart {
  std::string title;
  std::string x_label;
  std::string y_label;
  std::vector<Series> series;
};

// The points of a scatter chart that share a colour and a legend entry: filled circles, or hollow
// ones (e.g. the trials a search pruned).
struct ScatterSeries {
  std::string label;
  std::vector<double> x;
  std::vector<double> y;
  bool hollow = false;
};

struct ScatterChart {
  std::string title;
  std::string x_label;
  std::string y_label;
  bool log_x = false;  // x on a log scale (points with x <= 0 are left out)
  // When not empty, x holds category indices 0 .. n-1 and the x ticks name these categories.
  std::vector<std::string> categories;
  std::vector<ScatterSeries> series;
};

// One horizontal bar from the axis start to `value`, with an error bar [low, high] when both are
// finite, and the value written beside it followed by `note` (e.g. "n=5").
struct Bar {
  std::string label;
  double value;
  double low;
  double high;
  std::string note;
};

struct BarChart {
  std::string title;
  std::string value_label;
  std::vector<Bar> bars;
};

// The colour of series / bar `index` (a colour-blind-safe palette, repeating after 10).
const std::string& palette_colour(std::size_t index);

// Round tick values covering [low, high], about `target` of them, at 1, 2 or 5 x 10^k steps.
std::vector<double> nice_ticks(double low, double high, int target);

// Axes with ticks and labels, one coloured line and band per series, and a legend. An empty chart
// (no finite point) draws its frame and the note "no data".
std::string line_chart(const LineChart& chart);
// Axes with ticks (on a log scale, at 1, 2, 5 x 10^k or finer; or one tick per category), one
// colour of circles per series, and a legend. An empty chart draws its frame and "no data".
std::string scatter_chart(const ScatterChart& chart);
// Variants as rows, the value axis horizontal (it starts near the smallest value, not at 0, which
// the axis label states); bars in palette order with their error bars and values written beside.
std::string bar_chart(const BarChart& chart);

}  // namespace cadenza::svg
