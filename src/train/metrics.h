// genre/train: classification metrics: accuracy, per-class precision/recall/F1, confusion matrix.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/draw.h"

namespace genre {

struct ClassificationReport {
  std::vector<std::string> classes;
  std::vector<std::vector<int>> confusion;  // [true][predicted]
  int total = 0;
  double accuracy = 0, macro_f1 = 0;
  std::vector<double> precision, recall, f1;
  std::vector<int> support;
};

// truth and predicted are class indices of the same length.
ClassificationReport classification_report(const std::vector<int>& truth,
                                           const std::vector<int>& predicted,
                                           const std::vector<std::string>& classes);

// Merges the counts of several reports (pooled cross-validation) and recomputes the scores.
ClassificationReport pool_reports(const std::vector<ClassificationReport>& reports);

// A text table (per-class scores and the confusion matrix) for a terminal.
std::string format_report(const ClassificationReport& report);
nlohmann::json report_to_json(const ClassificationReport& report);
// The report back from report_to_json's "classes" and "confusion_matrix" (scores recomputed).
ClassificationReport report_from_json(const nlohmann::json& j);
// A confusion-matrix picture (.png or .svg).
PictureLayout plot_confusion_matrix(const ClassificationReport& report, const std::string& path,
                                    const std::string& title);

}  // namespace genre
