#include "plot/svg_writer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "plot/charts.hpp"

namespace cadenza {

SvgWriter::SvgWriter(double width, double height) : width_(width), height_(height) {}

void SvgWriter::rect(double x, double y, double width, double height, std::string_view fill) {
  body_ += fmt::format(
      "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" "
      "fill=\"{}\"/>\n",
      x, y, width, height, fill);
}

void SvgWriter::line(double x1, double y1, double x2, double y2, std::string_view stroke,
                     double stroke_width, bool dashed) {
  body_ += fmt::format(
      "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" "
      "stroke-width=\"{:.1f}\"{}/>\n",
      x1, y1, x2, y2, stroke, stroke_width, dashed ? " stroke-dasharray=\"4 3\"" : "");
}

void SvgWriter::text(double x, double y, std::string_view content, std::string_view anchor,
                     double size, double rotation) {
  const std::string transform =
      rotation == 0 ? ""
                    : fmt::format(" transform=\"rotate({:.0f} {:.1f} {:.1f})\"", rotation, x, y);
  body_ += fmt::format(
      "<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"{:.0f}\" text-anchor=\"{}\"{}>{}</text>\n", x, y,
      size, anchor, transform, svg::xml_escape(std::string(content)));
}

std::string SvgWriter::finish() const {
  return fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{:.0f}\" height=\"{:.0f}\" "
      "viewBox=\"0 0 {:.0f} {:.0f}\" font-family=\"sans-serif\">\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n{}</svg>\n",
      width_, height_, width_, height_, body_);
}

int64_t tick_step(int64_t span, int max_ticks) {
  int64_t step = 1;
  while (span / step > max_ticks)
    step *= 2;
  return step;
}

std::string mix_colour(uint32_t low, uint32_t high, double t) {
  t = std::clamp(t, 0.0, 1.0);
  const auto channel = [&](int shift) {
    const double a = static_cast<double>((low >> shift) & 0xFF);
    const double b = static_cast<double>((high >> shift) & 0xFF);
    return static_cast<int>(std::lround(a + (b - a) * t));
  };
  return fmt::format("#{:02x}{:02x}{:02x}", channel(16), channel(8), channel(0));
}

}  // namespace cadenza
