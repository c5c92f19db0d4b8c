#include "predict/timeline.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "common/plot.h"

namespace genre {

std::string clock_time(double seconds) {
  char buf[32];
  const int s = static_cast<int>(seconds + 0.5);
  std::snprintf(buf, sizeof buf, "%d:%02d", s / 60, s % 60);
  return buf;
}

namespace {

std::size_t argmax(const std::vector<float>& v) {
  return std::max_element(v.begin(), v.end()) - v.begin();
}

// The index of the second most probable class.
std::size_t runner_up(const std::vector<float>& v) {
  const std::size_t best = argmax(v);
  std::size_t second = best == 0 ? 1 : 0;
  for (std::size_t c = 0; c < v.size(); ++c)
    if (c != best && v[c] > v[second]) second = c;
  return second;
}

}  // namespace

nlohmann::json segments_json(const Segments& s, const std::vector<std::string>& classes) {
  nlohmann::json windows = nlohmann::json::array();
  for (std::size_t w = 0; w < s.starts.size(); ++w) {
    nlohmann::json one = {{"start", s.starts[w]},
                          {"end", s.ends[w]},
                          {"crops", s.crops[w]},
                          {"label", classes[argmax(s.shown()[w])]},
                          {"probabilities", s.probabilities[w]}};
    if (s.smooth > 0) one["smoothed"] = s.smoothed[w];
    windows.push_back(one);
  }
  return {{"window_seconds", s.window_seconds},
          {"hop_seconds", s.hop_seconds},
          {"crop_seconds", s.crop_seconds},
          {"smooth", s.smooth},
          {"classes", classes},
          {"windows", windows}};
}

std::string timeline_text(const Prediction& p, const ModelInfo& model) {
  const Segments& s = p.segments;
  if (s.empty()) return "";
  std::size_t name_width = 0;
  for (const auto& c : model.classes) name_width = std::max(name_width, c.size());
  std::string out =
      "   genre over time (" + clock_time(p.seconds) + "; " + describe_segments(s) + "):\n";
  char buf[256];
  for (std::size_t w = 0; w < s.starts.size(); ++w) {
    const auto& probs = s.shown()[w];
    const std::size_t best = argmax(probs);
    const int filled = static_cast<int>(20 * probs[best] + 0.5);
    const std::string bar = std::string(filled, '#') + std::string(20 - filled, '.');
    std::snprintf(buf, sizeof buf, "   %6s-%-6s %-*s %s %3.0f%%", clock_time(s.starts[w]).c_str(),
                  clock_time(s.ends[w]).c_str(), static_cast<int>(name_width),
                  model.classes[best].c_str(), bar.c_str(), 100.0 * probs[best]);
    out += buf;
    if (probs.size() > 1) {
      const std::size_t second = runner_up(probs);
      std::snprintf(buf, sizeof buf, "   then %s %.0f%%", model.classes[second].c_str(),
                    100.0 * probs[second]);
      out += buf;
    }
    out += "\n";
  }
  return out;
}

PictureLayout plot_segments(const Prediction& p, const ModelInfo& model, const std::string& path) {
  const Segments& s = p.segments;
  Timeline t;
  t.title = std::filesystem::path(p.input).filename().string();
  t.subtitle = "duration " + clock_time(p.seconds) + "; " + describe_segments(s);
  t.classes = model.classes;
  t.starts = s.starts;
  t.ends = s.ends;
  t.probabilities = s.shown();
  t.overall = p.probabilities;
  t.duration = p.seconds;
  t.scale_caption = "colour: probability of the genre in the window";
  return plot_timeline(path, t);
}

}  // namespace genre
