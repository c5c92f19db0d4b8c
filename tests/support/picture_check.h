// Looking at rendered pictures the way a person would, without trusting the code that drew them:
// decode the PNG file with cairo and measure the pixels where each text should be.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/draw.h"

namespace genre::test {

struct DecodedPng {
  int width = 0, height = 0;
  std::vector<double> luminance;  // row-major, 0 black .. 1 white (composited on white)
  double at(int x, int y) const { return luminance[static_cast<std::size_t>(y) * width + x]; }
};

// Decodes `path` with cairo_image_surface_create_from_png; false (with the reason) if it fails.
bool decode_png(const std::string& path, DecodedPng* out, std::string* error);

struct Ink {
  int pixels = 0;  // pixels in the box
  int dark = 0;    // of which darker than kDark
  double darkest = 1, lightest = 0;
};
constexpr double kDark = 0.4;

// The pixels in a box (clipped to the picture).
Ink ink_in(const DecodedPng& png, double x0, double y0, double x1, double y1);

// A directory under the build tree where tests keep pictures for a person to look at.
std::string artifact_dir();

// Checks every text of `layout` in the decoded file `png_path`: the file decodes at the laid-out
// size, each text box lies inside the picture, stands out from its background (darkest and
// lightest pixel differ by >= 0.4), and labels, titles, ticks and legends (everything but cell
// values) contain dark pixels. Adds a GoogleTest failure per problem, naming the text.
void expect_readable(const std::string& png_path, const PictureLayout& layout);

}  // namespace genre::test
