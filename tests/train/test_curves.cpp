// Training curves from a run's history or its log, checked by looking at the picture's pixels.
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>

#include "support/picture_check.h"
#include "support/test_support.h"
#include "train/curves.h"

namespace genre {
namespace {

std::vector<EpochStats> history(bool with_validation) {
  std::vector<EpochStats> h;
  for (int e = 1; e <= 12; ++e) {
    EpochStats s;
    s.epoch = e;
    s.train_loss = 2.0 / e;
    s.train_accuracy = 0.08 * e;
    s.valid_loss = with_validation ? 2.2 / e + 0.1 : 0.0;
    s.valid_score = with_validation ? 0.07 * e : s.train_accuracy;
    h.push_back(s);
  }
  return h;
}

std::vector<std::string> legends(const PictureLayout& layout) {
  std::vector<std::string> out;
  for (const auto& t : layout.texts)
    if (t.role == TextRole::kLegend) out.push_back(t.text);
  return out;
}

TEST(Curves, LogReadsBackAndDrawsReadably) {
  test::TempDir dir;
  {
    std::ofstream log(dir.file("m.log.jsonl"));
    for (const auto& s : history(true)) log << nlohmann::json(s).dump() << "\n";
  }
  const auto h = read_training_log(dir.file("m.log.jsonl"));
  ASSERT_EQ(h.size(), 12u);
  EXPECT_DOUBLE_EQ(h[3].train_loss, 0.5);
  EXPECT_TRUE(log_has_validation(h));
  const std::string path = test::artifact_dir() + "/training-curves-with-validation.png";
  std::cout << "picture: " << path << "\n";
  const PictureLayout layout = plot_training_curves(h, true, path, "training curves: m.pt");
  test::expect_readable(path, layout);
  EXPECT_EQ(legends(layout),
            (std::vector<std::string>{"train", "valid", "train acc", "valid score"}));
}

TEST(Curves, WithoutValidationOnlyTrainingIsDrawn) {
  const auto h = history(false);
  EXPECT_FALSE(log_has_validation(h));
  const std::string path = test::artifact_dir() + "/training-curves-no-validation.png";
  std::cout << "picture: " << path << "\n";
  const PictureLayout layout = plot_training_curves(h, false, path, "training curves: m.pt");
  test::expect_readable(path, layout);
  EXPECT_EQ(legends(layout), (std::vector<std::string>{"train", "train acc"}));
}

TEST(Curves, BadLogsAreErrors) {
  test::TempDir dir;
  EXPECT_THROW(read_training_log(dir.file("none.jsonl")), std::exception);
  std::ofstream(dir.file("empty.jsonl")) << "\n";
  EXPECT_THROW(read_training_log(dir.file("empty.jsonl")), std::exception);
  std::ofstream(dir.file("torn.jsonl")) << "{\"epoch\": 1, \"train_lo";
  EXPECT_THROW(read_training_log(dir.file("torn.jsonl")), std::exception);
}

}  // namespace
}  // namespace genre
