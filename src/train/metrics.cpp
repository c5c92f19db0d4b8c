#include "train/metrics.h"

#include <cstdio>
#include <sstream>

#include "common/error.h"
#include "common/plot.h"

namespace genre {

namespace {

void compute_scores(ClassificationReport& r) {
  const std::size_t n = r.classes.size();
  r.precision.assign(n, 0);
  r.recall.assign(n, 0);
  r.f1.assign(n, 0);
  r.support.assign(n, 0);
  int correct = 0;
  r.total = 0;
  for (std::size_t t = 0; t < n; ++t)
    for (std::size_t p = 0; p < n; ++p) {
      r.total += r.confusion[t][p];
      r.support[t] += r.confusion[t][p];
      if (t == p) correct += r.confusion[t][p];
    }
  double f1_sum = 0;
  for (std::size_t c = 0; c < n; ++c) {
    int predicted = 0;
    for (std::size_t t = 0; t < n; ++t) predicted += r.confusion[t][c];
    const int tp = r.confusion[c][c];
    r.precision[c] = predicted ? static_cast<double>(tp) / predicted : 0.0;
    r.recall[c] = r.support[c] ? static_cast<double>(tp) / r.support[c] : 0.0;
    const double pr = r.precision[c] + r.recall[c];
    r.f1[c] = pr > 0 ? 2 * r.precision[c] * r.recall[c] / pr : 0.0;
    f1_sum += r.f1[c];
  }
  r.accuracy = r.total ? static_cast<double>(correct) / r.total : 0.0;
  r.macro_f1 = n ? f1_sum / n : 0.0;
}

}  // namespace

ClassificationReport classification_report(const std::vector<int>& truth,
                                           const std::vector<int>& predicted,
                                           const std::vector<std::string>& classes) {
  if (truth.size() != predicted.size())
    throw Error(ErrorKind::kInvalidArgument, "", "truth and predictions differ in length");
  ClassificationReport r;
  r.classes = classes;
  const int n = static_cast<int>(classes.size());
  r.confusion.assign(n, std::vector<int>(n, 0));
  for (std::size_t i = 0; i < truth.size(); ++i) {
    if (truth[i] < 0 || truth[i] >= n || predicted[i] < 0 || predicted[i] >= n)
      throw Error(ErrorKind::kInvalidArgument, "", "class index out of range");
    ++r.confusion[truth[i]][predicted[i]];
  }
  compute_scores(r);
  return r;
}

ClassificationReport pool_reports(const std::vector<ClassificationReport>& reports) {
  if (reports.empty()) throw Error(ErrorKind::kInvalidArgument, "", "nothing to pool");
  ClassificationReport r = reports[0];
  for (std::size_t k = 1; k < reports.size(); ++k)
    for (std::size_t t = 0; t < r.classes.size(); ++t)
      for (std::size_t p = 0; p < r.classes.size(); ++p)
        r.confusion[t][p] += reports[k].confusion[t][p];
  compute_scores(r);
  return r;
}

ClassificationReport report_from_json(const nlohmann::json& j) {
  ClassificationReport r;
  try {
    r.classes = j.at("classes").get<std::vector<std::string>>();
    r.confusion = j.at("confusion_matrix").get<std::vector<std::vector<int>>>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorKind::kInvalidArgument, "",
                std::string("not a classification report: ") + e.what());
  }
  const std::size_t n = r.classes.size();
  bool square = r.confusion.size() == n;
  for (const auto& row : r.confusion) square = square && row.size() == n;
  if (!square)
    throw Error(ErrorKind::kInvalidArgument, "",
                "confusion_matrix is not classes x classes (" + std::to_string(n) + ")");
  compute_scores(r);
  return r;
}

std::string format_report(const ClassificationReport& r) {
  std::ostringstream out;
  char line[256];
  std::snprintf(line, sizeof line, "accuracy %.4f   macro F1 %.4f   (%d tracks)\n\n", r.accuracy,
                r.macro_f1, r.total);
  out << line;
  std::snprintf(line, sizeof line, "%-14s %9s %9s %9s %8s\n", "class", "precision", "recall", "f1",
                "support");
  out << line;
  for (std::size_t c = 0; c < r.classes.size(); ++c) {
    std::snprintf(line, sizeof line, "%-14s %9.3f %9.3f %9.3f %8d\n", r.classes[c].c_str(),
                  r.precision[c], r.recall[c], r.f1[c], r.support[c]);
    out << line;
  }
  out << "\nconfusion matrix (rows: true, columns: predicted)\n";
  std::snprintf(line, sizeof line, "%-14s", "");
  out << line;
  for (const auto& c : r.classes) {
    std::snprintf(line, sizeof line, " %5.5s", c.c_str());
    out << line;
  }
  out << "\n";
  for (std::size_t t = 0; t < r.classes.size(); ++t) {
    std::snprintf(line, sizeof line, "%-14s", r.classes[t].c_str());
    out << line;
    for (std::size_t p = 0; p < r.classes.size(); ++p) {
      std::snprintf(line, sizeof line, " %5d", r.confusion[t][p]);
      out << line;
    }
    out << "\n";
  }
  return out.str();
}

nlohmann::json report_to_json(const ClassificationReport& r) {
  nlohmann::json per_class = nlohmann::json::object();
  for (std::size_t c = 0; c < r.classes.size(); ++c)
    per_class[r.classes[c]] = {{"precision", r.precision[c]},
                               {"recall", r.recall[c]},
                               {"f1", r.f1[c]},
                               {"support", r.support[c]}};
  return {{"accuracy", r.accuracy}, {"macro_f1", r.macro_f1}, {"tracks", r.total},
          {"classes", r.classes},   {"per_class", per_class}, {"confusion_matrix", r.confusion}};
}

PictureLayout plot_confusion_matrix(const ClassificationReport& r, const std::string& path,
                                    const std::string& title) {
  std::vector<std::vector<double>> values(r.classes.size());
  for (std::size_t t = 0; t < r.classes.size(); ++t)
    values[t].assign(r.confusion[t].begin(), r.confusion[t].end());
  char subtitle[128];
  std::snprintf(subtitle, sizeof subtitle, "%s (accuracy %.3f, macro F1 %.3f)", title.c_str(),
                r.accuracy, r.macro_f1);
  return plot_heatmap(path, subtitle, values, r.classes, r.classes, "true", "predicted", true);
}

}  // namespace genre
