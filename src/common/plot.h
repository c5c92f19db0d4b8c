// genre/common: the pictures genre draws (PNG or SVG, chosen by the file extension) with cairo:
// line charts (training curves), heat maps (confusion matrices) and genre-over-time timelines.
// Each returns where its texts went (see common/draw.h).
#pragma once

#include <string>
#include <vector>

#include "common/draw.h"

namespace genre {

struct Series {
  std::string name;
  std::vector<double> y;  // one value per x step; NaN: no value
};

// A line chart: one panel per group of series (e.g. loss | accuracy), x = 1..n.
PictureLayout plot_lines(const std::string& path, const std::string& title,
                         const std::vector<std::vector<Series>>& panels,
                         const std::vector<std::string>& panel_titles, const std::string& x_label);

// A heat map with row/column labels and the value printed in each cell (confusion matrices).
// `values` is rows x cols; `vmax` <= 0 means the maximum value.
PictureLayout plot_heatmap(const std::string& path, const std::string& title,
                           const std::vector<std::vector<double>>& values,
                           const std::vector<std::string>& row_labels,
                           const std::vector<std::string>& col_labels, const std::string& row_axis,
                           const std::string& col_axis, bool print_values, double vmax = 0);

// Class probabilities over time: one row per class, one column per window on a time axis, the
// top class of each window outlined (when the columns are at least 6 px wide), a colour scale
// saying what the colours mean, and the whole track's top classes beside it.
struct Timeline {
  std::string title;     // e.g. the song's name
  std::string subtitle;  // e.g. its duration and how the windows were made
  std::vector<std::string> classes;
  std::vector<double> starts, ends;               // seconds, one per window
  std::vector<std::vector<float>> probabilities;  // [window][class], in [0, 1]
  std::vector<float> overall;                     // the whole track, one per class
  double duration = 0;                            // seconds
  std::string scale_caption;                      // what a cell's colour means
  int overall_top = 5;                            // classes listed beside the timeline
};
PictureLayout plot_timeline(const std::string& path, const Timeline& t);

}  // namespace genre
