#include "predict/segments.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/error.h"

namespace genre {

std::vector<std::pair<double, double>> window_spans(double duration, double window, double hop) {
  const double eps = 1e-6;
  if (duration <= window + eps) return {{0.0, duration}};
  std::vector<std::pair<double, double>> spans;
  double start = 0;
  for (int k = 0; k * hop + window <= duration + eps; ++k) {
    start = k * hop;
    spans.emplace_back(start, start + window);
  }
  // The rest of the track: its own shorter window, or the last window stretched over a short tail.
  const double tail = duration - spans.back().second;
  if (tail >= hop / 2)
    spans.emplace_back(start + hop, duration);
  else if (tail > eps)
    spans.back().second = duration;
  return spans;
}

namespace {

std::vector<float> mean_of(const std::vector<std::vector<float>>& rows,
                           const std::vector<std::size_t>& pick) {
  std::vector<float> out(rows.empty() ? 0 : rows[0].size(), 0.0f);
  for (std::size_t i : pick)
    for (std::size_t c = 0; c < out.size(); ++c) out[c] += rows[i][c];
  for (float& v : out) v /= std::max<std::size_t>(1, pick.size());
  return out;
}

std::vector<std::size_t> crops_in(const std::vector<double>& starts, double crop, double a,
                                  double b) {
  const double eps = 1e-6;
  std::vector<std::size_t> inside, centred;
  std::size_t nearest = 0;
  double best = 1e300;
  for (std::size_t i = 0; i < starts.size(); ++i) {
    const double centre = starts[i] + crop / 2;
    if (starts[i] >= a - eps && starts[i] + crop <= b + eps) inside.push_back(i);
    if (centre >= a - eps && centre < b) centred.push_back(i);
    const double d = std::abs(centre - (a + b) / 2);
    if (d < best) best = d, nearest = i;
  }
  if (!inside.empty()) return inside;
  if (!centred.empty()) return centred;
  return {nearest};
}

}  // namespace

std::vector<std::vector<float>> smooth_windows(const std::vector<std::vector<float>>& windows,
                                               int radius) {
  std::vector<std::vector<float>> out;
  const int n = static_cast<int>(windows.size());
  for (int w = 0; w < n; ++w) {
    std::vector<std::size_t> pick;
    for (int k = std::max(0, w - radius); k <= std::min(n - 1, w + radius); ++k) pick.push_back(k);
    out.push_back(mean_of(windows, pick));
  }
  return out;
}

Segments segment_windows(const std::vector<std::vector<float>>& crop_probabilities,
                         const std::vector<double>& crop_starts, double crop_seconds,
                         double duration, const SegmentParams& params) {
  if (crop_probabilities.empty() || crop_probabilities.size() != crop_starts.size())
    throw Error(ErrorKind::kInvalidArgument, "", "segments need one start per crop");
  if (params.smooth < 0)
    throw Error(ErrorKind::kInvalidArgument, "", "--segment-smooth must be >= 0");
  Segments s;
  s.crop_seconds = crop_seconds;
  s.window_seconds = std::max(params.window_seconds, crop_seconds);
  s.hop_seconds = params.hop_seconds > 0 ? params.hop_seconds : s.window_seconds / 2;
  s.smooth = params.smooth;
  for (const auto& [a, b] : window_spans(duration, s.window_seconds, s.hop_seconds)) {
    const auto pick = crops_in(crop_starts, crop_seconds, a, b);
    s.starts.push_back(a);
    s.ends.push_back(b);
    s.crops.push_back(static_cast<int>(pick.size()));
    s.probabilities.push_back(mean_of(crop_probabilities, pick));
  }
  if (s.smooth > 0) s.smoothed = smooth_windows(s.probabilities, s.smooth);
  return s;
}

std::string describe_segments(const Segments& s) {
  char buf[200];
  std::snprintf(buf, sizeof buf,
                "%g s windows every %g s, each the mean of the model's %.1f s crops in it",
                std::round(s.window_seconds * 100) / 100, std::round(s.hop_seconds * 100) / 100,
                s.crop_seconds);
  std::string out = buf;
  if (s.smooth > 0) out += "; smoothed over " + std::to_string(2 * s.smooth + 1) + " windows";
  return out;
}

}  // namespace genre
