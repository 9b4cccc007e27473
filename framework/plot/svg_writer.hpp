// The one SVG writer of cadenza: pictures (piano rolls, attention maps) and report charts are
// built element by element here, every attribute value and text XML-escaped, coordinates with
// one decimal so files stay compact.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cadenza {

// One attribute of an element: its name and its value, already formatted (the writer escapes it).
struct SvgAttribute {
  std::string_view name;
  std::string value;
};
using SvgAttributes = std::vector<SvgAttribute>;

class SvgWriter {
 public:
  // A picture: root font-family sans-serif, a white background over the whole document.
  SvgWriter(double width, double height);
  // A document whose <svg> root has `root` after xmlns, width, height and viewBox; no background.
  SvgWriter(double width, double height, SvgAttributes root);

  // <tag a="v" .../> without `text`, <tag a="v" ...>text</tag> with it; one line.
  void element(std::string_view tag, const SvgAttributes& attributes,
               std::optional<std::string_view> text = std::nullopt);
  void rect(double x, double y, double width, double height, std::string_view fill);
  void line(double x1, double y1, double x2, double y2, std::string_view stroke,
            double stroke_width, bool dashed = false);
  // anchor: "start", "middle" or "end"; rotation in degrees about (x, y).
  void text(double x, double y, std::string_view content, std::string_view anchor = "start",
            double size = 11, double rotation = 0);
  // The whole document.
  std::string finish() const;

 private:
  std::string body_;
  double width_, height_;
  SvgAttributes root_;
};

// A coordinate as written: one decimal ("12.3").
std::string svg_coordinate(double value);

// The smallest power of two k such that span / k gives at most max_ticks ticks.
int64_t tick_step(int64_t span, int max_ticks);

// "#rrggbb" of a colour interpolated from `low` to `high` (each 0xRRGGBB) at t in [0, 1].
std::string mix_colour(uint32_t low, uint32_t high, double t);

namespace svg {

// Escapes &, <, >, " and ' for XML text and attribute values.
std::string xml_escape(const std::string& text);

}  // namespace svg
}  // namespace cadenza
