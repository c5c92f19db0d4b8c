#include "common/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace genre {

namespace {

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, std::abs(v) >= 100 || v == std::floor(v) ? "%.0f" : "%.2f", v);
  return buf;
}

TextStyle style(double size, double align_x = 0, double align_y = 0.5, bool vertical = false) {
  TextStyle s;
  s.size = size, s.align_x = align_x, s.align_y = align_y, s.vertical = vertical;
  return s;
}

void draw_panel(Canvas& cv, const std::vector<Series>& series, const std::string& title,
                const std::string& x_label, double x0, double x1, double y0, double y1,
                double height) {
  double lo = 1e300, hi = -1e300;
  std::size_t n = 0;
  for (const auto& s : series)
    for (double v : s.y)
      if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v), n = std::max(n, s.y.size());
  if (n == 0) return;
  if (hi - lo < 1e-9) hi = lo + 1;
  const double pad = 0.05 * (hi - lo);
  lo -= pad, hi += pad;
  auto X = [&](std::size_t i) { return n > 1 ? x0 + (x1 - x0) * i / (n - 1) : (x0 + x1) / 2; };
  auto Y = [&](double v) { return y1 - (y1 - y0) * (v - lo) / (hi - lo); };
  cv.stroke_rect(x0, y0, x1 - x0, y1 - y0, kBlack);
  cv.text((x0 + x1) / 2, 36, title, TextRole::kSubtitle, style(13, 0.5));
  cv.text((x0 + x1) / 2, height - 14, x_label, TextRole::kAxisTitle, style(11, 0.5));
  for (int t = 0; t <= 4; ++t) {
    const double v = lo + (hi - lo) * t / 4;
    cv.text(x0 - 4, Y(v), fmt(v), TextRole::kTick, style(10, 1.0));
  }
  cv.text(x0, y1 + 12, "1", TextRole::kTick, style(10, 0.5));
  cv.text(x1, y1 + 12, std::to_string(n), TextRole::kTick, style(10, 0.5));
  for (std::size_t s = 0; s < series.size(); ++s) {
    std::vector<double> xs, ys;
    for (std::size_t i = 0; i < series[s].y.size(); ++i) {
      xs.push_back(X(i));
      ys.push_back(std::isfinite(series[s].y[i]) ? Y(series[s].y[i]) : NAN);
    }
    cv.polyline(xs, ys, series_colour(s), 2);
    cv.fill_rect(x0 + 10, y0 + 10 + 16 * s, 12, 3, series_colour(s));
    cv.text(x0 + 26, y0 + 11 + 16 * s, series[s].name, TextRole::kLegend, style(11));
  }
}

}  // namespace

PictureLayout plot_lines(const std::string& path, const std::string& title,
                         const std::vector<std::vector<Series>>& panels,
                         const std::vector<std::string>& panel_titles, const std::string& x_label) {
  const int panel_w = 420, height = 340, margin = 55;
  const int width = panel_w * static_cast<int>(std::max<std::size_t>(1, panels.size()));
  return render_picture(path, width, height, [&](Canvas& cv) {
    TextStyle title_style = style(15, 0.5);
    title_style.bold = true;
    cv.text(width / 2.0, 16, title, TextRole::kTitle, title_style);
    for (std::size_t p = 0; p < panels.size(); ++p)
      draw_panel(cv, panels[p], p < panel_titles.size() ? panel_titles[p] : "", x_label,
                 p * panel_w + margin, (p + 1) * panel_w - 15, 50, height - 45, height);
  });
}

PictureLayout plot_heatmap(const std::string& path, const std::string& title,
                           const std::vector<std::vector<double>>& values,
                           const std::vector<std::string>& row_labels,
                           const std::vector<std::string>& col_labels, const std::string& row_axis,
                           const std::string& col_axis, bool print_values, double vmax) {
  const int rows = static_cast<int>(values.size());
  const int cols = rows ? static_cast<int>(values[0].size()) : 0;
  const double cell_w = cols > 30 ? std::max(4.0, 900.0 / cols) : 46, cell_h = 30;
  const double left = 110, top = 60;
  const int width = std::max(360, static_cast<int>(left + cell_w * cols + 30));
  const int height = static_cast<int>(top + cell_h * rows + 90);
  if (vmax <= 0)
    for (const auto& r : values)
      for (double v : r) vmax = std::max(vmax, v);
  if (vmax <= 0) vmax = 1;
  return render_picture(path, width, height, [&](Canvas& cv) {
    TextStyle title_style = style(15, 0.5);
    title_style.bold = true;
    cv.text(width / 2.0, 18, title, TextRole::kTitle, title_style);
    for (int r = 0; r < rows; ++r) {
      cv.text(left - 6, top + cell_h * (r + 0.5), r < (int)row_labels.size() ? row_labels[r] : "",
              TextRole::kRowLabel, style(11, 1.0));
      for (int c = 0; c < cols; ++c) {
        const Rgb cell = heat_colour(values[r][c] / vmax);
        cv.fill_rect(left + c * cell_w, top + r * cell_h, cell_w, cell_h, cell);
        if (print_values && values[r][c] != 0) {
          TextStyle value_style = style(11, 0.5);
          value_style.colour = text_colour_on(cell);
          cv.text(left + (c + 0.5) * cell_w, top + (r + 0.5) * cell_h, fmt(values[r][c]),
                  TextRole::kValue, value_style);
        }
      }
    }
    const int label_every = cols > 30 ? (cols + 14) / 15 : 1;
    for (int c = 0; c < cols; c += label_every)
      cv.text(left + (c + 0.5) * cell_w, top + rows * cell_h + 6,
              c < (int)col_labels.size() ? col_labels[c] : "", TextRole::kColumnLabel,
              style(10, 1.0, 0.5, true));
    cv.text(left + cols * cell_w / 2, height - 10, col_axis, TextRole::kAxisTitle, style(12, 0.5));
    cv.text(14, top + rows * cell_h / 2, row_axis, TextRole::kAxisTitle, style(12, 0.5, 0.5, true));
  });
}

}  // namespace genre
