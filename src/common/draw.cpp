#include "common/draw.h"

#include <cairo-svg.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

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

void set_colour(cairo_t* cr, Rgb c) { cairo_set_source_rgb(cr, c.r, c.g, c.b); }

double luminance(Rgb c) { return 0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b; }

}  // namespace

void Canvas::text(double x, double y, const std::string& s, TextRole role, const TextStyle& style) {
  cairo_save(cr_);
  cairo_select_font_face(cr_, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                         style.bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr_, style.size);
  cairo_text_extents_t ext;
  cairo_text_extents(cr_, s.c_str(), &ext);
  cairo_translate(cr_, x, y);
  if (style.vertical) cairo_rotate(cr_, -M_PI / 2);
  const double mx = -ext.width * style.align_x - ext.x_bearing;
  const double my = -ext.height * style.align_y - ext.y_bearing;
  set_colour(cr_, style.colour);
  cairo_move_to(cr_, mx, my);
  cairo_show_text(cr_, s.c_str());
  // The ink box in device pixels (the corners of the rotated box).
  TextBox box{s, role, 1e300, 1e300, -1e300, -1e300, style.colour};
  for (double cx : {mx + ext.x_bearing, mx + ext.x_bearing + ext.width})
    for (double cy : {my + ext.y_bearing, my + ext.y_bearing + ext.height}) {
      double dx = cx, dy = cy;
      cairo_user_to_device(cr_, &dx, &dy);
      box.x0 = std::min(box.x0, dx), box.x1 = std::max(box.x1, dx);
      box.y0 = std::min(box.y0, dy), box.y1 = std::max(box.y1, dy);
    }
  cairo_restore(cr_);
  if (layout_ && !s.empty()) layout_->texts.push_back(box);
}

double Canvas::text_width(const std::string& s, double size, bool bold) {
  cairo_save(cr_);
  cairo_select_font_face(cr_, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr_, size);
  cairo_text_extents_t ext;
  cairo_text_extents(cr_, s.c_str(), &ext);
  cairo_restore(cr_);
  return ext.x_advance;
}

void Canvas::fill_rect(double x, double y, double w, double h, Rgb colour) {
  set_colour(cr_, colour);
  cairo_rectangle(cr_, x, y, w, h);
  cairo_fill(cr_);
}

void Canvas::stroke_rect(double x, double y, double w, double h, Rgb colour, double line_width) {
  set_colour(cr_, colour);
  cairo_set_line_width(cr_, line_width);
  cairo_rectangle(cr_, x, y, w, h);
  cairo_stroke(cr_);
}

void Canvas::line(double x0, double y0, double x1, double y1, Rgb colour, double line_width) {
  set_colour(cr_, colour);
  cairo_set_line_width(cr_, line_width);
  cairo_move_to(cr_, x0, y0);
  cairo_line_to(cr_, x1, y1);
  cairo_stroke(cr_);
}

void Canvas::polyline(const std::vector<double>& xs, const std::vector<double>& ys, Rgb colour,
                      double line_width) {
  set_colour(cr_, colour);
  cairo_set_line_width(cr_, line_width);
  bool started = false;
  for (std::size_t i = 0; i < xs.size() && i < ys.size(); ++i) {
    if (!std::isfinite(ys[i])) continue;
    if (!started)
      cairo_move_to(cr_, xs[i], ys[i]), started = true;
    else
      cairo_line_to(cr_, xs[i], ys[i]);
  }
  cairo_stroke(cr_);
}

PictureLayout render_picture(const std::string& path, int width, int height,
                             const std::function<void(Canvas&)>& draw) {
  const bool svg = is_svg(path);
  const std::string tmp = path + ".tmp";
  cairo_surface_t* surface = svg ? cairo_svg_surface_create(tmp.c_str(), width, height)
                                 : cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width, height);
  cairo_t* cr = cairo_create(surface);
  set_colour(cr, kWhite);
  cairo_paint(cr);
  PictureLayout layout;
  layout.width = width, layout.height = height;
  Canvas canvas(cr, &layout);
  draw(canvas);
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
  return layout;
}

Rgb heat_colour(double v) {
  v = std::clamp(v, 0.0, 1.0);
  return {1 - 0.92 * v, 1 - 0.7 * v, 1 - 0.35 * v};
}

Rgb text_colour_on(Rgb background) { return luminance(background) < 0.5 ? kWhite : kBlack; }

Rgb series_colour(std::size_t i) {
  static const Rgb palette[] = {{0.12, 0.47, 0.71}, {1.0, 0.5, 0.05},  {0.17, 0.63, 0.17},
                                {0.84, 0.15, 0.16}, {0.58, 0.4, 0.74}, {0.55, 0.34, 0.29}};
  return palette[i % 6];
}

}  // namespace genre
