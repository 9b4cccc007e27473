#include "generate/attention_svg.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "plot/svg_writer.hpp"

namespace cadenza {
namespace {

constexpr double kLeft = 72, kRight = 96, kTop = 40, kBottom = 56;
constexpr uint32_t kZeroColour = 0xFFFFFF;
constexpr uint32_t kMaxColour = 0x08306B;

}  // namespace

std::string attention_svg(const std::vector<AttentionRow>& rows, const AttentionPicture& picture) {
  int64_t columns = 1;
  float largest = 0.0f;
  for (const AttentionRow& row : rows) {
    columns = std::max(columns, row.first_key_frame + static_cast<int64_t>(row.weights.size()));
    for (const float w : row.weights)
      largest = std::max(largest, w);
  }
  const int64_t steps = std::max<int64_t>(static_cast<int64_t>(rows.size()), 1);
  const double cell_w = std::clamp(720.0 / static_cast<double>(columns), 1.5, 12.0);
  const double cell_h = std::clamp(560.0 / static_cast<double>(steps), 1.5, 12.0);
  const double plot_width = cell_w * static_cast<double>(columns);
  const double plot_height = cell_h * static_cast<double>(steps);
  SvgWriter svg(kLeft + plot_width + kRight, kTop + plot_height + kBottom);
  svg.text(kLeft, 18, picture.title, "start", 13);
  svg.text(kLeft, 32, "rows: decoder steps; columns: encoder steps; grey: outside the window",
           "start", 10);
  svg.rect(kLeft, kTop, plot_width, plot_height, "#d9d9d9");

  const double scale = largest > 0.0f ? 1.0 / static_cast<double>(largest) : 0.0;
  for (size_t r = 0; r < rows.size(); ++r) {
    const AttentionRow& row = rows[r];
    const double y = kTop + cell_h * static_cast<double>(r);
    for (size_t k = 0; k < row.weights.size(); ++k) {
      const double x =
          kLeft + cell_w * static_cast<double>(row.first_key_frame + static_cast<int64_t>(k));
      svg.rect(x, y, cell_w, cell_h,
               mix_colour(kZeroColour, kMaxColour, static_cast<double>(row.weights[k]) * scale));
    }
    if (r > 0 && row.first_key_frame != rows[r - 1].first_key_frame) {
      svg.line(kLeft, y, kLeft + plot_width, y, "#c0392b", 1);
    }
  }
  if (picture.primer_frames > 0 && picture.primer_frames < columns) {
    const double x = kLeft + cell_w * static_cast<double>(picture.primer_frames);
    svg.line(x, kTop - 4, x, kTop + plot_height + 4, "#333333", 1.2, true);
  }

  // Axes: encoder steps by the frame they read, decoder steps by the frame they predict.
  const double axis_y = kTop + plot_height;
  svg.line(kLeft, axis_y, kLeft + plot_width, axis_y, "#333333", 1);
  svg.line(kLeft, kTop, kLeft, axis_y, "#333333", 1);
  const int64_t column_step = tick_step(columns, std::max(2, static_cast<int>(plot_width / 48)));
  for (int64_t c = 0; c < columns; c += column_step) {
    const double x = kLeft + cell_w * (static_cast<double>(c) + 0.5);
    svg.line(x, axis_y, x, axis_y + 4, "#333333", 1);
    svg.text(x, axis_y + 16, fmt::format("{}", c), "middle", 10);
  }
  svg.text(kLeft + plot_width / 2, axis_y + 40, "encoder step: frame of the piece it read",
           "middle", 11);
  const int64_t row_step = tick_step(steps, std::max(2, static_cast<int>(plot_height / 24)));
  for (int64_t r = 0; r < static_cast<int64_t>(rows.size()); r += row_step) {
    const double y = kTop + cell_h * (static_cast<double>(r) + 0.5);
    svg.line(kLeft - 4, y, kLeft, y, "#333333", 1);
    svg.text(kLeft - 6, y + 3.5, fmt::format("{}", rows[static_cast<size_t>(r)].frame), "end", 10);
  }
  svg.text(20, kTop + plot_height / 2, "decoder step: frame it predicts", "middle", 11, -90);

  // Colour bar: 0 at the bottom, the largest weight at the top.
  const double bar_x = kLeft + plot_width + 24;
  const double bar_height = std::min(plot_height, 200.0);
  constexpr int kBands = 20;
  for (int i = 0; i < kBands; ++i) {
    const double t = (static_cast<double>(i) + 0.5) / kBands;
    svg.rect(bar_x, kTop + bar_height * (1.0 - static_cast<double>(i + 1) / kBands), 14,
             bar_height / kBands + 0.2, mix_colour(kZeroColour, kMaxColour, t));
  }
  svg.text(bar_x + 18, kTop + 8, fmt::format("{:.3f}", largest), "start", 10);
  svg.text(bar_x + 18, kTop + bar_height, "0", "start", 10);
  svg.text(bar_x + 7, kTop + bar_height + 16, "weight", "middle", 10);
  return svg.finish();
}

}  // namespace cadenza
