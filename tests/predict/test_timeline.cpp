// Genre over time as JSON, terminal lines and a picture (checked by looking at its pixels).
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <sstream>

#include "predict/timeline.h"
#include "support/picture_check.h"

namespace genre {
namespace {

ModelInfo three_genres() {
  ModelInfo m;
  m.classes = {"country", "pop", "rock"};
  return m;
}

// A 2:10 song: country, then rock from 60 s.
Prediction song() {
  Prediction p;
  p.input = "/music/Some Artist - A Country Song.mp3";
  p.seconds = 130;
  std::vector<std::vector<float>> crops;
  std::vector<double> starts;
  for (int s = 0; s + 2 <= 130; ++s) {
    starts.push_back(s);
    crops.push_back(s < 60 ? std::vector<float>{0.7f, 0.2f, 0.1f}
                           : std::vector<float>{0.2f, 0.1f, 0.7f});
  }
  p.segments = segment_windows(crops, starts, 2.0, 130, SegmentParams{});
  p.probabilities = {0.45f, 0.15f, 0.4f};
  return p;
}

TEST(Timeline, OneTerminalLinePerWindow) {
  const Prediction p = song();
  const std::string text = timeline_text(p, three_genres());
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  EXPECT_NE(line.find("2:10"), std::string::npos) << line;  // the duration
  EXPECT_NE(line.find("10 s windows every 5 s"), std::string::npos) << line;
  std::vector<std::string> lines;
  while (std::getline(in, line)) lines.push_back(line);
  ASSERT_EQ(lines.size(), p.segments.starts.size());
  EXPECT_EQ(lines[0].substr(0, 24), "     0:00-0:10   country");
  EXPECT_NE(lines[0].find("##############......  70%"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("then pop 20%"), std::string::npos) << lines[0];
  EXPECT_NE(lines.back().find("rock"), std::string::npos) << lines.back();
}

TEST(Timeline, JsonKeepsTheRawWindows) {
  Prediction p = song();
  const auto j = segments_json(p.segments, three_genres().classes);
  EXPECT_EQ(j["window_seconds"], 10.0);
  EXPECT_EQ(j["hop_seconds"], 5.0);
  EXPECT_EQ(j["crop_seconds"], 2.0);
  EXPECT_EQ(j["smooth"], 0);
  ASSERT_EQ(j["windows"].size(), 25u);
  EXPECT_EQ(j["windows"][0]["crops"], 9);
  EXPECT_EQ(j["windows"][0]["label"], "country");
  EXPECT_FALSE(j["windows"][0].contains("smoothed"));

  // Smoothing: the labels follow the smoothed values, the raw ones stay.
  std::vector<std::vector<float>> crops;
  std::vector<double> starts;
  for (int s = 0; s + 2 <= 130; ++s) {
    starts.push_back(s);
    crops.push_back(s < 60 ? std::vector<float>{0.7f, 0.2f, 0.1f}
                           : std::vector<float>{0.2f, 0.1f, 0.7f});
  }
  SegmentParams sp;
  sp.smooth = 2;
  p.segments = segment_windows(crops, starts, 2.0, 130, sp);
  const auto js = segments_json(p.segments, three_genres().classes);
  EXPECT_EQ(js["smooth"], 2);
  const auto& w = js["windows"][11];  // 55-65 s: raw mixes both halves
  EXPECT_EQ(w["probabilities"].size(), 3u);
  EXPECT_EQ(w["smoothed"].size(), 3u);
  EXPECT_NE(w["probabilities"][0].get<double>(), w["smoothed"][0].get<double>());
}

TEST(Timeline, PictureIsReadable) {
  const std::string path = test::artifact_dir() + "/predict-timeline.png";
  std::cout << "picture: " << path << "\n";
  const PictureLayout layout = plot_segments(song(), three_genres(), path);
  test::expect_readable(path, layout);
  std::vector<std::string> titles, subtitles;
  for (const auto& t : layout.texts) {
    if (t.role == TextRole::kTitle) titles.push_back(t.text);
    if (t.role == TextRole::kSubtitle) subtitles.push_back(t.text);
  }
  EXPECT_EQ(titles, std::vector<std::string>{"Some Artist - A Country Song.mp3"});
  ASSERT_FALSE(subtitles.empty());
  EXPECT_NE(subtitles[0].find("duration 2:10"), std::string::npos) << subtitles[0];
}

}  // namespace
}  // namespace genre
