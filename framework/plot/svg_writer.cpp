#include "plot/svg_writer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace cadenza {

SvgWriter::SvgWriter(double width, double height)
    : SvgWriter(width, height, {{"font-family", "sans-serif"}}) {
  element("rect", {{"width", "100%"}, {"height", "100%"}, {"fill", "#ffffff"}});
}

SvgWriter::SvgWriter(double width, double height, SvgAttributes root)
    : width_(width), height_(height), root_(std::move(root)) {}

void SvgWriter::element(std::string_view tag, const SvgAttributes& attributes,
                        std::optional<std::string_view> text) {
  body_ += fmt::format("<{}", tag);
  for (const auto& [name, value] : attributes)
    body_ += fmt::format(" {}=\"{}\"", name, svg::xml_escape(value));
  body_ += text ? fmt::format(">{}</{}>\n", svg::xml_escape(std::string(*text)), tag) : "/>\n";
}

void SvgWriter::rect(double x, double y, double width, double height, std::string_view fill) {
  element("rect", {{"x", svg_coordinate(x)},
                   {"y", svg_coordinate(y)},
                   {"width", svg_coordinate(width)},
                   {"height", svg_coordinate(height)},
                   {"fill", std::string(fill)}});
}

void SvgWriter::line(double x1, double y1, double x2, double y2, std::string_view stroke,
                     double stroke_width, bool dashed) {
  SvgAttributes attributes = {
      {"x1", svg_coordinate(x1)},      {"y1", svg_coordinate(y1)},
      {"x2", svg_coordinate(x2)},      {"y2", svg_coordinate(y2)},
      {"stroke", std::string(stroke)}, {"stroke-width", svg_coordinate(stroke_width)}};
  if (dashed) attributes.push_back({"stroke-dasharray", "4 3"});
  element("line", attributes);
}

void SvgWriter::text(double x, double y, std::string_view content, std::string_view anchor,
                     double size, double rotation) {
  SvgAttributes attributes = {{"x", svg_coordinate(x)},
                              {"y", svg_coordinate(y)},
                              {"font-size", fmt::format("{:.0f}", size)},
                              {"text-anchor", std::string(anchor)}};
  if (rotation != 0) {
    attributes.push_back(
        {"transform", fmt::format("rotate({:.0f} {:.1f} {:.1f})", rotation, x, y)});
  }
  element("text", attributes, content);
}

std::string SvgWriter::finish() const {
  std::string root = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{:.0f}\" height=\"{:.0f}\" "
      "viewBox=\"0 0 {:.0f} {:.0f}\"",
      width_, height_, width_, height_);
  for (const auto& [name, value] : root_)
    root += fmt::format(" {}=\"{}\"", name, svg::xml_escape(value));
  return root + ">\n" + body_ + "</svg>\n";
}

std::string svg_coordinate(double value) {
  return fmt::format("{:.1f}", value);
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

namespace svg {

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

}  // namespace svg
}  // namespace cadenza
