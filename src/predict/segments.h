// genre/predict: genre over time. The model sees short crops (about 2 s for the shipped model);
// a listener thinks in sections of several seconds. A window here is the mean of the model's crop
// probabilities inside it, optionally smoothed over neighbouring windows.
#pragma once

#include <string>
#include <vector>

namespace genre {

struct SegmentParams {
  double window_seconds = 10;  // at least one crop
  double hop_seconds = 0;      // <= 0: half a window
  int smooth = 0;              // average each window with this many neighbours either side
};

struct Segments {
  double window_seconds = 0, hop_seconds = 0, crop_seconds = 0;
  int smooth = 0;
  std::vector<double> starts, ends;               // seconds; the last window may be shorter
  std::vector<int> crops;                         // crops averaged into each window
  std::vector<std::vector<float>> probabilities;  // [window][class]: the mean over its crops
  std::vector<std::vector<float>> smoothed;       // the same smoothed (empty when smooth == 0)
  bool empty() const { return starts.empty(); }
  // What to show: smoothed when smoothing is on, else the raw window means.
  const std::vector<std::vector<float>>& shown() const {
    return smooth > 0 ? smoothed : probabilities;
  }
};

// Window spans over a track of `duration` seconds: every `hop` from 0 while a whole window fits;
// then the rest of the track gets a shorter window of its own (a rest of at least half a hop) or
// stretches the last window; a track shorter than a window is one window.
std::vector<std::pair<double, double>> window_spans(double duration, double window, double hop);

// Windows from crop probabilities ([crop][class], crops of `crop_seconds` starting at
// `crop_starts`). A window averages the crops that lie inside it (or, when none does, the crops
// whose centre is inside, else the nearest crop).
Segments segment_windows(const std::vector<std::vector<float>>& crop_probabilities,
                         const std::vector<double>& crop_starts, double crop_seconds,
                         double duration, const SegmentParams& params);

// A centred moving average over 2 * radius + 1 windows (fewer at the ends).
std::vector<std::vector<float>> smooth_windows(const std::vector<std::vector<float>>& windows,
                                               int radius);

// "10 s windows every 5 s, each the mean of the model's 2.0 s crops in it" (+ smoothing).
std::string describe_segments(const Segments& s);

}  // namespace genre
