#include "common/plot.h"

#include <cairo-svg.h>
#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>

#include "common/error.h"

namespace genre {

namespace {

bool is_svg(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
  if (ext != ".svg" && ext != ".png")
    throw Error(ErrorKind::kInvalidArgument, path, "picture must end in .svg or .png");
  return ext == ".svg";
}

// Draws on an SVG or PNG surface, written to a temporary name and renamed (no partial files).
void render(const std::string& path, int width, int height,
            const std::function<void(cairo_t*)>& draw) {
  const bool svg = is_svg(path);
  const std::string tmp = path + ".tmp";
  cairo_surface_t* surface = svg ? cairo_svg_surface_create(tmp.c_str(), width, height)
                                 : cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width, height);
  cairo_t* cr = cairo_create(surface);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  draw(cr);
  cairo_destroy(cr);
  cairo_status_t status = CAIRO_STATUS_SUCCESS;
  if (!svg) status = cairo_surface_write_to_png(surface, tmp.c_str());
  cairo_surface_finish(surface);
  if (status == CAIRO_STATUS_SUCCESS) status = cairo_surface_status(surface);
  cairo_surface_destroy(surface);
  std::error_code ec;
  if (status != CAIRO_STATUS_SUCCESS) {
    std::filesystem::remove(tmp, ec);
    throw Error(ErrorKind::kIo, path,
                std::string("cannot write picture: ") + cairo_status_to_string(status));
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw Error(ErrorKind::kIo, path, "cannot write picture: " + ec.message());
}

void text(cairo_t* cr, double x, double y, const std::string& s, double size, double align_x = 0,
          double align_y = 0.5, bool vertical = false) {
  cairo_set_font_size(cr, size);
  cairo_text_extents_t ext;
  cairo_text_extents(cr, s.c_str(), &ext);
  cairo_save(cr);
  cairo_translate(cr, x, y);
  if (vertical) cairo_rotate(cr, -M_PI / 2);
  cairo_move_to(cr, -ext.width * align_x - ext.x_bearing, -ext.height * align_y - ext.y_bearing);
  cairo_show_text(cr, s.c_str());
  cairo_restore(cr);
}

const double kPalette[][3] = {{0.12, 0.47, 0.71}, {1.0, 0.5, 0.05},  {0.17, 0.63, 0.17},
                              {0.84, 0.15, 0.16}, {0.58, 0.4, 0.74}, {0.55, 0.34, 0.29}};

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, std::abs(v) >= 100 || v == std::floor(v) ? "%.0f" : "%.2f", v);
  return buf;
}

}  // namespace

void plot_lines(const std::string& path, const std::string& title,
                const std::vector<std::vector<Series>>& panels,
                const std::vector<std::string>& panel_titles, const std::string& x_label) {
  const int panel_w = 420, height = 340, margin = 55;
  const int width = panel_w * static_cast<int>(std::max<std::size_t>(1, panels.size()));
  render(path, width, height, [&](cairo_t* cr) {
    cairo_set_source_rgb(cr, 0, 0, 0);
    text(cr, width / 2.0, 16, title, 15, 0.5);
    for (std::size_t p = 0; p < panels.size(); ++p) {
      const double x0 = p * panel_w + margin, x1 = (p + 1) * panel_w - 15, y0 = 50,
                   y1 = height - 45;
      double lo = 1e300, hi = -1e300;
      std::size_t n = 0;
      for (const auto& s : panels[p])
        for (double v : s.y)
          if (std::isfinite(v))
            lo = std::min(lo, v), hi = std::max(hi, v), n = std::max(n, s.y.size());
      if (n == 0) continue;
      if (hi - lo < 1e-9) hi = lo + 1;
      const double pad = 0.05 * (hi - lo);
      lo -= pad, hi += pad;
      auto X = [&](std::size_t i) { return n > 1 ? x0 + (x1 - x0) * i / (n - 1) : (x0 + x1) / 2; };
      auto Y = [&](double v) { return y1 - (y1 - y0) * (v - lo) / (hi - lo); };
      cairo_set_source_rgb(cr, 0, 0, 0);
      cairo_set_line_width(cr, 1);
      cairo_rectangle(cr, x0, y0, x1 - x0, y1 - y0);
      cairo_stroke(cr);
      text(cr, (x0 + x1) / 2, 36, p < panel_titles.size() ? panel_titles[p] : "", 13, 0.5);
      text(cr, (x0 + x1) / 2, height - 14, x_label, 11, 0.5);
      for (int t = 0; t <= 4; ++t) {
        const double v = lo + (hi - lo) * t / 4;
        text(cr, x0 - 4, Y(v), fmt(v), 10, 1.0);
      }
      text(cr, x0, y1 + 12, "1", 10, 0.5);
      text(cr, x1, y1 + 12, std::to_string(n), 10, 0.5);
      for (std::size_t s = 0; s < panels[p].size(); ++s) {
        const auto& c = kPalette[s % 6];
        cairo_set_source_rgb(cr, c[0], c[1], c[2]);
        cairo_set_line_width(cr, 2);
        bool started = false;
        for (std::size_t i = 0; i < panels[p][s].y.size(); ++i) {
          const double v = panels[p][s].y[i];
          if (!std::isfinite(v)) continue;
          if (!started)
            cairo_move_to(cr, X(i), Y(v)), started = true;
          else
            cairo_line_to(cr, X(i), Y(v));
        }
        cairo_stroke(cr);
        cairo_rectangle(cr, x0 + 10, y0 + 10 + 16 * s, 12, 3);
        cairo_fill(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        text(cr, x0 + 26, y0 + 11 + 16 * s, panels[p][s].name, 11);
      }
    }
  });
}

void plot_heatmap(const std::string& path, const std::string& title,
                  const std::vector<std::vector<double>>& values,
                  const std::vector<std::string>& row_labels,
                  const std::vector<std::string>& col_labels, const std::string& row_axis,
                  const std::string& col_axis, bool print_values, double vmax) {
  const int rows = static_cast<int>(values.size());
  const int cols = rows ? static_cast<int>(values[0].size()) : 0;
  const double cell_w = cols > 30 ? std::max(4.0, 900.0 / cols) : 46, cell_h = 30;
  const double left = 110, top = 60;
  const int width = static_cast<int>(left + cell_w * cols + 30);
  const int height = static_cast<int>(top + cell_h * rows + 90);
  if (vmax <= 0)
    for (const auto& r : values)
      for (double v : r) vmax = std::max(vmax, v);
  if (vmax <= 0) vmax = 1;
  render(path, std::max(width, 360), height, [&](cairo_t* cr) {
    cairo_set_source_rgb(cr, 0, 0, 0);
    text(cr, std::max(width, 360) / 2.0, 18, title, 15, 0.5);
    for (int r = 0; r < rows; ++r) {
      text(cr, left - 6, top + cell_h * (r + 0.5), r < (int)row_labels.size() ? row_labels[r] : "",
           11, 1.0);
      for (int c = 0; c < cols; ++c) {
        const double v = std::clamp(values[r][c] / vmax, 0.0, 1.0);
        cairo_set_source_rgb(cr, 1 - 0.85 * v, 1 - 0.6 * v, 1 - 0.2 * v);
        cairo_rectangle(cr, left + c * cell_w, top + r * cell_h, cell_w, cell_h);
        cairo_fill(cr);
        if (print_values && values[r][c] != 0) {
          const double g = v > 0.55 ? 1.0 : 0.0;
          cairo_set_source_rgb(cr, g, g, g);
          text(cr, left + (c + 0.5) * cell_w, top + (r + 0.5) * cell_h, fmt(values[r][c]), 11, 0.5);
        }
      }
    }
    cairo_set_source_rgb(cr, 0, 0, 0);
    const int label_every = cols > 30 ? (cols + 14) / 15 : 1;
    for (int c = 0; c < cols; c += label_every)
      text(cr, left + (c + 0.5) * cell_w, top + rows * cell_h + 6,
           c < (int)col_labels.size() ? col_labels[c] : "", 10, 1.0, 0.5, true);
    text(cr, left + cols * cell_w / 2, height - 10, col_axis, 12, 0.5);
    text(cr, 14, top + rows * cell_h / 2, row_axis, 12, 0.5, 0.5, true);
  });
}

}  // namespace genre
