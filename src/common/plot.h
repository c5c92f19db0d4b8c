// genre/common: pictures (PNG or SVG, chosen by the file extension) drawn with cairo.
#pragma once

#include <string>
#include <vector>

namespace genre {

struct Series {
  std::string name;
  std::vector<double> y;  // one value per x step
};

// A line chart: one panel per group of series (e.g. loss | accuracy), x = 1..n.
void plot_lines(const std::string& path, const std::string& title,
                const std::vector<std::vector<Series>>& panels,
                const std::vector<std::string>& panel_titles, const std::string& x_label);

// A heat map with row/column labels and the value printed in each cell (confusion matrices,
// genre-over-time). `values` is rows x cols; `vmax` <= 0 means the maximum value.
void plot_heatmap(const std::string& path, const std::string& title,
                  const std::vector<std::vector<double>>& values,
                  const std::vector<std::string>& row_labels,
                  const std::vector<std::string>& col_labels, const std::string& row_axis,
                  const std::string& col_axis, bool print_values, double vmax = 0);

}  // namespace genre
