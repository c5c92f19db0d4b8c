// genre/train: stratified k-fold cross-validation (train on k-1 folds + extra data, test on one).
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <vector>

#include "model/model_file.h"
#include "train/metrics.h"
#include "train/prepare.h"

namespace genre {

struct CvParams {
  int folds = 10;
  TrainParams train = train_default_params();  // train.seed also seeds the fold assignment
  const Model* init = nullptr;                 // transfer learning: start each fold from this model
  bool freeze_conv = false;
  bool linear_probe = false;  // with init: train only the output layer
};

// One evaluated track: which fold tested it, its label and the model's track-level probabilities.
struct CvTrackResult {
  std::string id;  // "<class>/<file stem>"
  int fold = 0, label = 0, predicted = 0;
  std::vector<float> probabilities;  // per class, in ModelInfo::classes order
};

struct CvResult {
  std::vector<double> fold_accuracy;
  std::vector<CvTrackResult> tracks;  // every evaluated track, fold by fold
  std::vector<ClassificationReport> fold_reports;
  ClassificationReport pooled;
  double mean_accuracy = 0, std_accuracy = 0, seconds = 0;
  // Pooled accuracy when every crop runs through the whole model as in training
  // (CropPolicy::kIndependent), next to the shared-conv policy of the figures above; -1 when the
  // model does not share its convolutions.
  double independent_crops_accuracy = -1;
  nlohmann::json to_json(const std::vector<std::string>& classes) const;
};

// `extra` (may be null) joins every fold's training side and never an evaluation side. Each fold
// keeps the weights selected by the training params (last epoch, or the average of the last N:
// there is no validation set, so nothing is selected on the test fold).
CvResult cross_validate(const PreparedData& data, const PreparedData* extra, const ModelInfo& base,
                        const CvParams& params, const std::function<void(int, double)>& on_fold);

}  // namespace genre
