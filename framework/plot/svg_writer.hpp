// A small SVG writer for cadenza's pictures (piano rolls, attention maps): shapes and text in
// user units (pixels), escaped, with one-decimal coordinates so files stay compact.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace cadenza {

class SvgWriter {
 public:
  SvgWriter(double width, double height);

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
};

// The smallest power of two k such that span / k gives at most max_ticks ticks.
int64_t tick_step(int64_t span, int max_ticks);

// "#rrggbb" of a colour interpolated from `low` to `high` (each 0xRRGGBB) at t in [0, 1].
std::string mix_colour(uint32_t low, uint32_t high, double t);

}  // namespace cadenza
