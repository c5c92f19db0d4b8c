// `genre plot`: the model card's pictures re-drawn from saved results (cv JSON, training log).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "support/picture_check.h"
#include "support/test_support.h"
#include "train/metrics.h"

namespace genre {
namespace {

namespace fs = std::filesystem;

std::string genre() { return test::genre_binary() + " plot "; }

void expect_png(const std::string& path, int min_width) {
  test::DecodedPng png;
  std::string error;
  ASSERT_TRUE(test::decode_png(path, &png, &error)) << error;
  EXPECT_GE(png.width, min_width);
  // Something was drawn: a good share of dark pixels (labels, lines, dark cells).
  const test::Ink ink = test::ink_in(png, 0, 0, png.width, png.height);
  EXPECT_GT(ink.dark, 200) << path;
}

TEST(PlotCli, ConfusionMatrixFromCvJson) {
  test::TempDir dir;
  const std::vector<std::string> classes = {"a", "b", "c"};
  const auto report = classification_report({0, 0, 1, 1, 2, 2}, {0, 1, 1, 1, 2, 0}, classes);
  nlohmann::json cv = {{"folds", nlohmann::json::array({{{"fold", 0}}, {{"fold", 1}}})},
                       {"pooled", report_to_json(report)}};
  std::ofstream(dir.file("cv.json")) << cv.dump();
  std::string out, err;
  ASSERT_EQ(
      test::run_command(genre() + "confusion " + dir.file("cv.json") + " -o " + dir.file("cm.png"),
                        &out, &err),
      0)
      << err;
  expect_png(dir.file("cm.png"), 300);
  // `genre evaluate --json` output: the report at the top level.
  std::ofstream(dir.file("eval.json")) << report_to_json(report).dump();
  ASSERT_EQ(test::run_command(genre() + "confusion " + dir.file("eval.json") + " -o " +
                              dir.file("cm.svg") + " --title T"),
            0);
  EXPECT_GT(fs::file_size(dir.file("cm.svg")), 1000u);
  // Not a report: a data error (exit 1) naming the file; a missing file: a usage error.
  std::ofstream(dir.file("bad.json")) << "{\"pooled\": {\"classes\": [\"a\"]}}";
  EXPECT_EQ(
      test::run_command(genre() + "confusion " + dir.file("bad.json") + " -o " + dir.file("x.png"),
                        &out, &err),
      1);
  EXPECT_NE(err.find("bad.json"), std::string::npos) << err;
  EXPECT_EQ(test::run_command(genre() + "confusion " + dir.file("none.json") + " -o " +
                              dir.file("x.png")),
            2);
  EXPECT_FALSE(fs::exists(dir.file("x.png")));
}

TEST(PlotCli, TrainingCurvesFromLog) {
  test::TempDir dir;
  {
    std::ofstream log(dir.file("m.log.jsonl"));
    for (int e = 1; e <= 5; ++e)
      log << nlohmann::json{{"epoch", e},
                            {"train_loss", 2.0 / e},
                            {"train_accuracy", 0.2 * e},
                            {"valid_loss", 0.0},
                            {"valid_score", 0.2 * e},
                            {"lr", 0.001},
                            {"samples_per_second", 80.0},
                            {"seconds", 10.0},
                            {"best", true}}
                 .dump()
          << "\n";
  }
  std::string out, err;
  ASSERT_EQ(test::run_command(
                genre() + "curves " + dir.file("m.log.jsonl") + " -o " + dir.file("curves.png"),
                &out, &err),
            0)
      << err;
  expect_png(dir.file("curves.png"), 800);
  std::ofstream(dir.file("torn.jsonl")) << "{\"epoch\": 1, \"train_lo";
  EXPECT_EQ(
      test::run_command(genre() + "curves " + dir.file("torn.jsonl") + " -o " + dir.file("t.png")),
      1);
}

// The shipped model card's pictures, re-drawn from its saved results, kept for a person to see.
TEST(PlotCli, ModelCardPictures) {
  const std::string models = std::string(GENRE_SOURCE_DIR) + "/models/";
  if (!fs::exists(models + "genre-gtzan.cv.json") || !fs::exists(models + "genre-gtzan.log.jsonl"))
    GTEST_SKIP() << "no saved results in " << models;
  const std::string dir = test::artifact_dir();
  std::cout << "pictures: " << dir << "/model-card-*.png\n";
  ASSERT_EQ(test::run_command(genre() + "confusion " + models + "genre-gtzan.cv.json -o " + dir +
                              "/model-card-confusion.png"),
            0);
  expect_png(dir + "/model-card-confusion.png", 500);
  ASSERT_EQ(test::run_command(genre() + "curves " + models + "genre-gtzan.log.jsonl -o " + dir +
                              "/model-card-curves.png"),
            0);
  expect_png(dir + "/model-card-curves.png", 800);
}

}  // namespace
}  // namespace genre
