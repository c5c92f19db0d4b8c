// The genre-over-time picture (common/plot.h: plot_timeline).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "common/plot.h"

namespace genre {

namespace {

std::string clock_label(double seconds) {
  char buf[32];
  const int s = static_cast<int>(seconds + 0.5);
  std::snprintf(buf, sizeof buf, "%d:%02d", s / 60, s % 60);
  return buf;
}

std::string percent(double p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f%%", 100 * p);
  return buf;
}

TextStyle style(double size, double align_x = 0, Rgb colour = kBlack, bool bold = false) {
  TextStyle s;
  s.size = size, s.align_x = align_x, s.colour = colour, s.bold = bold;
  return s;
}

// A round tick step giving at most about ten ticks.
double tick_step(double duration) {
  for (double step : {1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0})
    if (duration / step <= 10) return step;
  return 3600;
}

struct Frame {
  double left, top, width, row_h;
  double duration;
  double x(double t) const { return left + width * std::clamp(t / duration, 0.0, 1.0); }
};

// The heat map: each window owns the time nearest its centre. Returns whether the top class of
// each window is outlined (when the columns are wide enough).
bool draw_cells(Canvas& cv, const Timeline& t, const Frame& f) {
  const std::size_t n = t.starts.size(), rows = t.classes.size();
  std::vector<double> edges{0};
  for (std::size_t w = 1; w < n; ++w)
    edges.push_back((t.starts[w - 1] + t.ends[w - 1] + t.starts[w] + t.ends[w]) / 4);
  edges.push_back(f.duration);
  bool outlined = true;
  for (std::size_t w = 0; w < n; ++w) outlined = outlined && f.x(edges[w + 1]) - f.x(edges[w]) >= 6;
  for (std::size_t w = 0; w < n; ++w) {
    const double x0 = f.x(edges[w]), x1 = f.x(edges[w + 1]);
    const auto& p = t.probabilities[w];
    for (std::size_t c = 0; c < rows; ++c)
      cv.fill_rect(x0, f.top + c * f.row_h, x1 - x0 + 0.5, f.row_h, heat_colour(p[c]));
    if (outlined) {
      const std::size_t best = std::max_element(p.begin(), p.end()) - p.begin();
      cv.stroke_rect(x0 + 1, f.top + best * f.row_h + 1, x1 - x0 - 2, f.row_h - 2, kBlack, 1.5);
    }
  }
  cv.stroke_rect(f.left, f.top, f.width, rows * f.row_h, kDarkGrey);
  for (std::size_t c = 0; c < rows; ++c)
    cv.text(f.left - 8, f.top + (c + 0.5) * f.row_h, t.classes[c], TextRole::kRowLabel,
            style(12, 1.0));
  return outlined;
}

void draw_time_axis(Canvas& cv, const Frame& f, double y) {
  const double step = tick_step(f.duration);
  for (double s = 0; s <= f.duration + 1e-9; s += step) {
    cv.line(f.x(s), y, f.x(s), y + 5, kBlack);
    cv.text(f.x(s), y + 14, clock_label(s), TextRole::kTick, style(11, 0.5));
  }
  cv.text(f.left + f.width / 2, y + 34, "time (m:ss)", TextRole::kAxisTitle, style(12, 0.5));
}

void draw_colour_scale(Canvas& cv, const std::string& caption, double x, double y) {
  const double w = 200, h = 12;
  for (int i = 0; i < 100; ++i)
    cv.fill_rect(x + w * i / 100, y, w / 100 + 0.5, h, heat_colour(i / 99.0));
  cv.stroke_rect(x, y, w, h, kDarkGrey);
  for (double v : {0.0, 0.5, 1.0})
    cv.text(x + w * v, y + h + 10, percent(v), TextRole::kTick, style(10, 0.5));
  cv.text(x + w + 14, y + h / 2, caption, TextRole::kLegend, style(11));
}

void draw_overall(Canvas& cv, const Timeline& t, double x, double y) {
  cv.text(x, y, "whole track", TextRole::kSubtitle, style(13, 0, kBlack, true));
  std::vector<std::size_t> order(t.overall.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return t.overall[a] > t.overall[b]; });
  const std::size_t n = std::min<std::size_t>(order.size(), std::max(1, t.overall_top));
  for (std::size_t i = 0; i < n; ++i) {
    const double row_y = y + 26 + 24 * i;
    const float p = t.overall[order[i]];
    cv.text(x, row_y, t.classes[order[i]], TextRole::kRowLabel, style(12));
    cv.fill_rect(x + 80, row_y - 7, std::max(1.0, 100.0 * p), 14, heat_colour(0.35 + 0.65 * p));
    cv.text(x + 86 + 100.0 * p, row_y, percent(p), TextRole::kValue, style(11));
  }
}

}  // namespace

PictureLayout plot_timeline(const std::string& path, const Timeline& t) {
  const double left = 110, top = 72, plot_w = 640, row_h = 24, panel_w = 230;
  const double plot_h = row_h * t.classes.size();
  const int width = static_cast<int>(left + plot_w + 40 + panel_w);
  const int height = static_cast<int>(top + plot_h + 130);
  double duration = t.duration;
  for (double e : t.ends) duration = std::max(duration, e);
  if (duration <= 0) duration = 1;
  const Frame f{left, top, plot_w, row_h, duration};
  return render_picture(path, width, height, [&](Canvas& cv) {
    cv.text(16, 20, t.title, TextRole::kTitle, style(15, 0, kBlack, true));
    cv.text(16, 44, t.subtitle, TextRole::kSubtitle, style(12, 0, kDarkGrey));
    const bool outlined = draw_cells(cv, t, f);
    draw_time_axis(cv, f, top + plot_h);
    draw_colour_scale(cv, t.scale_caption + (outlined ? " (outlined: each window's top)" : ""),
                      left, top + plot_h + 62);
    draw_overall(cv, t, left + plot_w + 40, top + 6);
  });
}

}  // namespace genre
