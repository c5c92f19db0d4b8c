#include "support/picture_check.h"

#include <cairo.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

namespace genre::test {

bool decode_png(const std::string& path, DecodedPng* out, std::string* error) {
  cairo_surface_t* s = cairo_image_surface_create_from_png(path.c_str());
  const cairo_status_t status = cairo_surface_status(s);
  if (status != CAIRO_STATUS_SUCCESS) {
    if (error) *error = path + ": " + cairo_status_to_string(status);
    cairo_surface_destroy(s);
    return false;
  }
  cairo_surface_flush(s);
  const cairo_format_t format = cairo_image_surface_get_format(s);
  if (format != CAIRO_FORMAT_ARGB32 && format != CAIRO_FORMAT_RGB24) {
    if (error) *error = path + ": unexpected pixel format " + std::to_string(format);
    cairo_surface_destroy(s);
    return false;
  }
  out->width = cairo_image_surface_get_width(s);
  out->height = cairo_image_surface_get_height(s);
  const int stride = cairo_image_surface_get_stride(s);
  const unsigned char* data = cairo_image_surface_get_data(s);
  out->luminance.assign(static_cast<std::size_t>(out->width) * out->height, 1.0);
  for (int y = 0; y < out->height; ++y) {
    const auto* row = reinterpret_cast<const std::uint32_t*>(data + y * stride);
    for (int x = 0; x < out->width; ++x) {
      // Native-endian 0xAARRGGBB, premultiplied alpha: composite on white.
      const std::uint32_t p = row[x];
      const double a = format == CAIRO_FORMAT_ARGB32 ? ((p >> 24) & 0xff) / 255.0 : 1.0;
      const double r = ((p >> 16) & 0xff) / 255.0 + (1 - a);
      const double g = ((p >> 8) & 0xff) / 255.0 + (1 - a);
      const double b = (p & 0xff) / 255.0 + (1 - a);
      out->luminance[static_cast<std::size_t>(y) * out->width + x] =
          0.2126 * r + 0.7152 * g + 0.0722 * b;
    }
  }
  cairo_surface_destroy(s);
  return true;
}

Ink ink_in(const DecodedPng& png, double x0, double y0, double x1, double y1) {
  Ink ink;
  const int xa = std::max(0, static_cast<int>(std::floor(x0)));
  const int ya = std::max(0, static_cast<int>(std::floor(y0)));
  const int xb = std::min(png.width - 1, static_cast<int>(std::ceil(x1)));
  const int yb = std::min(png.height - 1, static_cast<int>(std::ceil(y1)));
  for (int y = ya; y <= yb; ++y)
    for (int x = xa; x <= xb; ++x) {
      const double l = png.at(x, y);
      ++ink.pixels;
      if (l < kDark) ++ink.dark;
      ink.darkest = std::min(ink.darkest, l);
      ink.lightest = std::max(ink.lightest, l);
    }
  return ink;
}

std::string artifact_dir() {
  const std::string dir = std::string(GENRE_TEST_ARTIFACTS) + "/pictures";
  std::filesystem::create_directories(dir);
  return dir;
}

void expect_readable(const std::string& png_path, const PictureLayout& layout) {
  DecodedPng png;
  std::string error;
  ASSERT_TRUE(decode_png(png_path, &png, &error)) << error;
  EXPECT_EQ(png.width, layout.width) << png_path;
  EXPECT_EQ(png.height, layout.height) << png_path;
  ASSERT_FALSE(layout.texts.empty()) << png_path << ": no texts drawn";
  for (const TextBox& t : layout.texts) {
    const std::string where = png_path + ": \"" + t.text + "\"";
    EXPECT_GE(t.x0, 0) << where << " starts left of the picture";
    EXPECT_GE(t.y0, 0) << where << " starts above the picture";
    EXPECT_LE(t.x1, png.width) << where << " ends right of the picture";
    EXPECT_LE(t.y1, png.height) << where << " ends below the picture";
    const Ink ink = ink_in(png, t.x0, t.y0, t.x1, t.y1);
    EXPECT_GT(ink.pixels, 0) << where << " has an empty box";
    EXPECT_GE(ink.lightest - ink.darkest, 0.4)
        << where << " does not stand out from its background";
    if (t.role != TextRole::kValue) {
      EXPECT_GE(ink.dark, 3) << where << " has no dark pixels (darkest " << ink.darkest << ")";
    }
  }
}

}  // namespace genre::test
