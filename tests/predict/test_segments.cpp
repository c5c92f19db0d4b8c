// Genre over time: window spans, crops averaged into windows, smoothing.
#include <gtest/gtest.h>

#include "predict/segments.h"

namespace genre {
namespace {

TEST(Segments, WindowSpansCoverTheTrack) {
  auto spans = window_spans(130, 10, 5);  // ends exactly on a hop
  ASSERT_EQ(spans.size(), 25u);
  EXPECT_DOUBLE_EQ(spans[1].first, 5);
  EXPECT_DOUBLE_EQ(spans.back().first, 120);
  EXPECT_DOUBLE_EQ(spans.back().second, 130);

  spans = window_spans(128, 10, 5);  // one last, shorter window to the end
  ASSERT_EQ(spans.size(), 25u);
  EXPECT_DOUBLE_EQ(spans[23].second, 125);
  EXPECT_DOUBLE_EQ(spans.back().first, 120);
  EXPECT_DOUBLE_EQ(spans.back().second, 128);

  spans = window_spans(126, 10, 5);  // a tail under half a hop stretches the last window
  ASSERT_EQ(spans.size(), 24u);
  EXPECT_DOUBLE_EQ(spans.back().first, 115);
  EXPECT_DOUBLE_EQ(spans.back().second, 126);

  spans = window_spans(6, 10, 5);  // shorter than a window
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_DOUBLE_EQ(spans[0].second, 6);
}

// Crops of 2 s every 1 s over 30 s: class 0 before 15 s, class 1 after.
void two_part_track(std::vector<std::vector<float>>* probs, std::vector<double>* starts) {
  for (int s = 0; s + 2 <= 30; ++s) {
    starts->push_back(s);
    probs->push_back(s < 15 ? std::vector<float>{1, 0} : std::vector<float>{0, 1});
  }
}

TEST(Segments, AWindowIsTheMeanOfTheCropsInsideIt) {
  std::vector<std::vector<float>> probs;
  std::vector<double> starts;
  two_part_track(&probs, &starts);
  const Segments s = segment_windows(probs, starts, 2.0, 30, SegmentParams{});
  EXPECT_DOUBLE_EQ(s.window_seconds, 10);
  EXPECT_DOUBLE_EQ(s.hop_seconds, 5);  // half a window by default
  ASSERT_EQ(s.starts.size(), 5u);      // 0, 5, 10, 15, 20
  EXPECT_EQ(s.crops[0], 9);            // crops starting at 0..8 end inside 0-10
  EXPECT_FLOAT_EQ(s.probabilities[0][0], 1.0f);
  EXPECT_FLOAT_EQ(s.probabilities[2][0], 5.0f / 9);  // 10-20: five crops before 15 s, four after
  EXPECT_FLOAT_EQ(s.probabilities[4][1], 1.0f);
  EXPECT_TRUE(s.smoothed.empty());
  EXPECT_EQ(&s.shown(), &s.probabilities);
}

TEST(Segments, WindowsAreAtLeastOneCropAndHopsAreKept) {
  std::vector<std::vector<float>> probs;
  std::vector<double> starts;
  two_part_track(&probs, &starts);
  SegmentParams p;
  p.window_seconds = 0.5;  // shorter than the model's crop
  p.hop_seconds = 3;
  const Segments s = segment_windows(probs, starts, 2.0, 30, p);
  EXPECT_DOUBLE_EQ(s.window_seconds, 2.0);
  EXPECT_DOUBLE_EQ(s.starts[1] - s.starts[0], 3.0);
  for (int n : s.crops) EXPECT_GE(n, 1);
}

TEST(Segments, SmoothingIsACentredMovingAverage) {
  const std::vector<std::vector<float>> w = {{1, 0}, {0, 1}, {1, 0}, {1, 0}};
  const auto s = smooth_windows(w, 1);
  ASSERT_EQ(s.size(), 4u);
  EXPECT_FLOAT_EQ(s[0][0], 0.5f);      // (1 + 0) / 2 at the start
  EXPECT_FLOAT_EQ(s[1][0], 2.0f / 3);  // (1 + 0 + 1) / 3
  EXPECT_FLOAT_EQ(s[3][0], 1.0f);      // (1 + 1) / 2 at the end
  EXPECT_EQ(smooth_windows(w, 0), w);

  std::vector<std::vector<float>> probs;
  std::vector<double> starts;
  two_part_track(&probs, &starts);
  SegmentParams p;
  p.smooth = 1;
  const Segments seg = segment_windows(probs, starts, 2.0, 30, p);
  ASSERT_EQ(seg.smoothed.size(), seg.probabilities.size());
  EXPECT_EQ(&seg.shown(), &seg.smoothed);
  EXPECT_NE(describe_segments(seg).find("smoothed over 3 windows"), std::string::npos);
}

TEST(Segments, DescribesItself) {
  std::vector<std::vector<float>> probs;
  std::vector<double> starts;
  two_part_track(&probs, &starts);
  const Segments s = segment_windows(probs, starts, 2.048, 30, SegmentParams{});
  EXPECT_EQ(describe_segments(s),
            "10 s windows every 5 s, each the mean of the model's 2.0 s crops in it");
}

TEST(Segments, RefusesMismatchedCrops) {
  EXPECT_THROW(segment_windows({{1, 0}}, {0, 1}, 2, 10, SegmentParams{}), std::exception);
  EXPECT_THROW(segment_windows({}, {}, 2, 10, SegmentParams{}), std::exception);
}

}  // namespace
}  // namespace genre
