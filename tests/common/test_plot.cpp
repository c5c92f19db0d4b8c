// Every picture type rendered to PNG and looked at: the file decodes, and every label's area holds
// dark pixels (the text is really visible against its background). The PNGs are kept under the
// build tree (printed) for a person to look at.
#include <cairo.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>

#include "common/plot.h"
#include "support/picture_check.h"

namespace genre {
namespace {

const std::vector<std::string> kGenres = {"blues", "classical", "country", "disco",  "hiphop",
                                          "jazz",  "metal",     "pop",     "reggae", "rock"};

std::string artifact(const std::string& name) {
  const std::string path = test::artifact_dir() + "/" + name;
  std::cout << "picture: " << path << "\n";
  return path;
}

// The labels of `role` in a layout, in drawing order.
std::vector<std::string> labels(const PictureLayout& layout, TextRole role) {
  std::vector<std::string> out;
  for (const auto& t : layout.texts)
    if (t.role == role) out.push_back(t.text);
  return out;
}

// The check itself must catch the bug it is for: a label drawn in the colour of the last cell.
TEST(PictureCheck, SeesALabelDrawnInAPaleCellColour) {
  const std::string path = artifact("control-pale-label.png");
  cairo_surface_t* s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 200, 60);
  cairo_t* cr = cairo_create(s);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_set_font_size(cr, 12);
  cairo_set_source_rgb(cr, 0.95, 0.97, 0.99);  // left over from a nearly empty cell
  cairo_move_to(cr, 10, 25);
  cairo_show_text(cr, "classical");
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_move_to(cr, 10, 50);
  cairo_show_text(cr, "classical");
  cairo_destroy(cr);
  ASSERT_EQ(cairo_surface_write_to_png(s, path.c_str()), CAIRO_STATUS_SUCCESS);
  cairo_surface_destroy(s);
  test::DecodedPng png;
  std::string error;
  ASSERT_TRUE(test::decode_png(path, &png, &error)) << error;
  EXPECT_EQ(test::ink_in(png, 8, 10, 80, 28).dark, 0);   // invisible: no dark pixels
  EXPECT_GT(test::ink_in(png, 8, 35, 80, 53).dark, 20);  // visible
}

TEST(PictureCheck, RejectsAFileThatIsNotAPng) {
  const std::string path = artifact("not-a-picture.png");
  std::ofstream(path) << "not a png";
  test::DecodedPng png;
  std::string error;
  EXPECT_FALSE(test::decode_png(path, &png, &error));
  EXPECT_FALSE(error.empty());
}

TEST(Plot, ConfusionMatrixLabelsAreAllReadable) {
  // Counts like a 10-fold CV on GTZAN: dark diagonal cells, pale and empty ones elsewhere, so
  // every row label follows cells of a different colour.
  std::vector<std::vector<double>> cm(10, std::vector<double>(10, 0));
  for (int t = 0; t < 10; ++t) {
    cm[t][t] = 6 + t % 5;
    cm[t][(t + 3) % 10] = 10 - cm[t][t];
  }
  const std::string path = artifact("confusion-matrix.png");
  const PictureLayout layout =
      plot_heatmap(path, "10-fold CV, pooled", cm, kGenres, kGenres, "true", "predicted", true);
  test::expect_readable(path, layout);
  EXPECT_EQ(labels(layout, TextRole::kRowLabel), kGenres);
  EXPECT_EQ(labels(layout, TextRole::kColumnLabel), kGenres);
  std::size_t non_zero = 0;
  for (const auto& row : cm)
    non_zero += std::count_if(row.begin(), row.end(), [](double v) { return v != 0; });
  EXPECT_EQ(labels(layout, TextRole::kValue).size(), non_zero);
  const std::string svg = test::artifact_dir() + "/confusion-matrix.svg";
  plot_heatmap(svg, "10-fold CV, pooled", cm, kGenres, kGenres, "true", "predicted", true);
  std::ifstream in(svg);
  const std::string text(std::istreambuf_iterator<char>(in), {});
  EXPECT_NE(text.find("<svg"), std::string::npos);
}

TEST(Plot, TrainingCurvesLabelsAreAllReadable) {
  std::vector<Series> loss{{"train", {}}, {"valid", {}}}, score{{"train acc", {}}, {"valid", {}}};
  for (int e = 0; e < 28; ++e) {
    loss[0].y.push_back(2.1 * std::exp(-e / 8.0));
    loss[1].y.push_back(NAN);  // no validation set
    score[0].y.push_back(1 - 0.8 * std::exp(-e / 8.0));
    score[1].y.push_back(1 - 0.8 * std::exp(-e / 8.0));
  }
  const std::string path = artifact("training-curves.png");
  const PictureLayout layout = plot_lines(path, "training curves: genre-gtzan.pt", {loss, score},
                                          {"loss", "accuracy / score"}, "epoch");
  test::expect_readable(path, layout);
  EXPECT_EQ(labels(layout, TextRole::kLegend),
            (std::vector<std::string>{"train", "valid", "train acc", "valid"}));
  EXPECT_EQ(labels(layout, TextRole::kTick).size(), 2u * (5 + 2));
}

Timeline two_minute_song() {
  Timeline t;
  t.title = "a country song.mp3";
  t.subtitle = "duration 2:10; 10 s windows every 5 s";
  t.classes = kGenres;
  t.duration = 130;
  t.overall.assign(10, 0.02f);
  for (double s = 0; s + 10 <= 130; s += 5) {
    t.starts.push_back(s), t.ends.push_back(s + 10);
    std::vector<float> p(10, 0.02f);
    const int w = static_cast<int>(t.starts.size());
    p[2] = 0.5f + 0.3f * std::sin(w / 3.0f);  // country, rock and pop take turns
    p[9] = 0.6f - p[2];
    p[7] = 0.24f;
    t.probabilities.push_back(p);
    for (int c = 0; c < 10; ++c) t.overall[c] += p[c] / 25;
  }
  t.scale_caption = "colour: probability of the genre in the window";
  return t;
}

TEST(Plot, TimelineLabelsAreAllReadable) {
  const Timeline t = two_minute_song();
  const std::string path = artifact("timeline.png");
  const PictureLayout layout = plot_timeline(path, t);
  test::expect_readable(path, layout);
  // Every genre once beside the heat map, and the five most likely again beside it.
  const auto rows = labels(layout, TextRole::kRowLabel);
  ASSERT_EQ(rows.size(), 15u);
  EXPECT_EQ(std::vector<std::string>(rows.begin(), rows.begin() + 10), kGenres);
  EXPECT_EQ(rows[10], "country");
  const auto ticks = labels(layout, TextRole::kTick);
  EXPECT_NE(std::find(ticks.begin(), ticks.end(), "2:00"), ticks.end());  // a time axis in m:ss
  EXPECT_NE(std::find(ticks.begin(), ticks.end(), "100%"), ticks.end());  // the colour scale
  const auto titles = labels(layout, TextRole::kTitle);
  EXPECT_EQ(titles, std::vector<std::string>{"a country song.mp3"});
}

TEST(Plot, AnythingButSvgOrPngIsRefused) {
  EXPECT_THROW(plot_timeline(test::artifact_dir() + "/timeline.jpg", two_minute_song()),
               std::exception);
}

}  // namespace
}  // namespace genre
