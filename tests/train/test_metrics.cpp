#include <gtest/gtest.h>

#include <filesystem>

#include "support/picture_check.h"
#include "support/test_support.h"
#include "train/metrics.h"

namespace genre {
namespace {

TEST(Metrics, KnownConfusionMatrix) {
  // truth:  a a a a b b c c c c ; predicted: a a a b b c c c c a
  const std::vector<int> truth = {0, 0, 0, 0, 1, 1, 2, 2, 2, 2};
  const std::vector<int> pred = {0, 0, 0, 1, 1, 2, 2, 2, 2, 0};
  const auto r = classification_report(truth, pred, {"a", "b", "c"});
  EXPECT_EQ(r.confusion, (std::vector<std::vector<int>>{{3, 1, 0}, {0, 1, 1}, {1, 0, 3}}));
  EXPECT_DOUBLE_EQ(r.accuracy, 0.7);
  EXPECT_DOUBLE_EQ(r.precision[0], 0.75);
  EXPECT_DOUBLE_EQ(r.recall[0], 0.75);
  EXPECT_DOUBLE_EQ(r.precision[1], 0.5);
  EXPECT_DOUBLE_EQ(r.recall[1], 0.5);
  EXPECT_DOUBLE_EQ(r.precision[2], 0.75);
  EXPECT_DOUBLE_EQ(r.f1[2], 0.75);
  EXPECT_NEAR(r.macro_f1, (0.75 + 0.5 + 0.75) / 3, 1e-12);
  EXPECT_EQ(r.support, (std::vector<int>{4, 2, 4}));
  const auto j = report_to_json(r);
  EXPECT_EQ(j["per_class"]["b"]["support"], 2);
  EXPECT_NE(format_report(r).find("macro F1 0.6667"), std::string::npos);
}

TEST(Metrics, PoolingAddsCounts) {
  const auto a = classification_report({0, 1}, {0, 0}, {"x", "y"});
  const auto b = classification_report({1, 1}, {1, 1}, {"x", "y"});
  const auto p = pool_reports({a, b});
  EXPECT_EQ(p.total, 4);
  EXPECT_DOUBLE_EQ(p.accuracy, 0.75);
}

TEST(Metrics, ConfusionMatrixPictures) {
  test::TempDir dir;
  const auto r = classification_report({0, 1, 1}, {0, 1, 0}, {"x", "y"});
  plot_confusion_matrix(r, dir.file("cm.svg"), "test");
  EXPECT_GT(std::filesystem::file_size(dir.file("cm.svg")), 500u);
  const PictureLayout layout = plot_confusion_matrix(r, dir.file("cm.png"), "test");
  test::expect_readable(dir.file("cm.png"), layout);
}

TEST(Metrics, ReportFromJsonRecomputesTheScores) {
  const auto r = classification_report({0, 0, 0, 0, 1, 1, 2, 2, 2, 2},
                                       {0, 0, 0, 1, 1, 2, 2, 2, 2, 0}, {"a", "b", "c"});
  const auto back = report_from_json(report_to_json(r));
  EXPECT_EQ(back.classes, r.classes);
  EXPECT_EQ(back.confusion, r.confusion);
  EXPECT_DOUBLE_EQ(back.accuracy, r.accuracy);
  EXPECT_DOUBLE_EQ(back.macro_f1, r.macro_f1);
  EXPECT_EQ(back.total, 10);
  EXPECT_THROW(report_from_json({{"classes", {"a", "b"}}, {"confusion_matrix", {{1, 0}}}}),
               std::exception);
  EXPECT_THROW(report_from_json({{"classes", {"a"}}}), std::exception);
}

}  // namespace
}  // namespace genre
