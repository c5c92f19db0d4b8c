// genre/common: the cairo drawing helpers every picture uses: a PNG or SVG surface, and a canvas
// whose every draw states its own colour (cairo's source colour never leaks from one draw into the
// next). The canvas records where each text went, so tests can look at those pixels.
#pragma once

#include <cairo.h>

#include <functional>
#include <string>
#include <vector>

namespace genre {

struct Rgb {
  double r = 0, g = 0, b = 0;
};
constexpr Rgb kBlack{0, 0, 0};
constexpr Rgb kWhite{1, 1, 1};
constexpr Rgb kDarkGrey{0.3, 0.3, 0.3};

// What a piece of text is; tests check that labels are dark and every text stands out.
enum class TextRole {
  kTitle,
  kSubtitle,
  kAxisTitle,
  kTick,
  kRowLabel,
  kColumnLabel,
  kLegend,
  kValue
};

// A text as drawn: its ink box in pixels and the colour it was drawn in.
struct TextBox {
  std::string text;
  TextRole role = TextRole::kLegend;
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  Rgb colour;
};

// Where everything went in a picture.
struct PictureLayout {
  int width = 0, height = 0;
  std::vector<TextBox> texts;
};

struct TextStyle {
  double size = 11;
  Rgb colour = kBlack;
  double align_x = 0;     // 0 left, 0.5 centre, 1 right of x
  double align_y = 0.5;   // 0 top, 0.5 middle, 1 bottom of y
  bool vertical = false;  // reads bottom to top
  bool bold = false;
};

class Canvas {
 public:
  Canvas(cairo_t* cr, PictureLayout* layout) : cr_(cr), layout_(layout) {}
  // Draws `s` in style.colour (always set here) and records its ink box.
  void text(double x, double y, const std::string& s, TextRole role, const TextStyle& style);
  // Width of `s` at `size` in pixels.
  double text_width(const std::string& s, double size, bool bold = false);
  void fill_rect(double x, double y, double w, double h, Rgb colour);
  void stroke_rect(double x, double y, double w, double h, Rgb colour, double line_width = 1);
  void line(double x0, double y0, double x1, double y1, Rgb colour, double line_width = 1);
  // A polyline through the points; NaN values break it.
  void polyline(const std::vector<double>& xs, const std::vector<double>& ys, Rgb colour,
                double line_width);

 private:
  cairo_t* cr_;
  PictureLayout* layout_;
};

// Draws on a `width` x `height` white picture written to `path` (.svg or .png, by extension;
// anything else is an invalid-argument genre::Error), atomically (no partial files).
PictureLayout render_picture(const std::string& path, int width, int height,
                             const std::function<void(Canvas&)>& draw);

// Sequential colour for a value in [0, 1]: white to dark blue.
Rgb heat_colour(double v);
// Black or white, whichever reads better on `background`.
Rgb text_colour_on(Rgb background);
// A categorical colour for series i.
Rgb series_colour(std::size_t i);

}  // namespace genre
