#include "train/curves.h"

#include <fstream>

#include "common/error.h"
#include "common/plot.h"

namespace genre {

PictureLayout plot_training_curves(const std::vector<EpochStats>& history, bool has_validation,
                                   const std::string& path, const std::string& title) {
  // Without a validation set there is nothing to draw for it (its "score" is the training
  // accuracy again).
  std::vector<Series> loss{{"train", {}}}, score{{"train acc", {}}};
  if (has_validation) loss.push_back({"valid", {}}), score.push_back({"valid score", {}});
  for (const auto& h : history) {
    loss[0].y.push_back(h.train_loss);
    score[0].y.push_back(h.train_accuracy);
    if (has_validation) loss[1].y.push_back(h.valid_loss), score[1].y.push_back(h.valid_score);
  }
  return plot_lines(path, title, {loss, score}, {"loss", "accuracy / score"}, "epoch");
}

std::vector<EpochStats> read_training_log(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(ErrorKind::kNotFound, path, "cannot open training log");
  std::vector<EpochStats> history;
  int line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      history.push_back(nlohmann::json::parse(line).get<EpochStats>());
    } catch (const nlohmann::json::exception& e) {
      throw Error(ErrorKind::kCorrupt, path,
                  "line " + std::to_string(line_no) + " is not an epoch record: " + e.what());
    }
  }
  if (history.empty()) throw Error(ErrorKind::kEmpty, path, "training log has no epochs");
  return history;
}

bool log_has_validation(const std::vector<EpochStats>& history) {
  for (const auto& h : history)
    if (h.valid_loss != 0) return true;
  return false;
}

}  // namespace genre
