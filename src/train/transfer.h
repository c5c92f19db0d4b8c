// genre/train: training a transfer model (model/transfer_model.h). First its head on the
// backbones' layer features, computed once per track with the backbones frozen; then, when
// TrainParams::fine_tune_epochs > 0, the whole network end to end, the backbones at a lower
// learning rate (TrainParams::backbone_lr, default lr / 10) so that little data does not wash
// out what they learned from big data.
#pragma once

#include <string>
#include <vector>

#include "model/model_file.h"
#include "train/trainer.h"

namespace genre {

// `features`: the backbones' layer features of train_set as frozen_inputs(...,
// Freeze::kAllButOutput, ...) returns them, or empty to compute them here. `resume`: a checkpoint
// of an interrupted fine-tuning stage (the head stage is deterministic and is simply run again).
// The history holds both stages, the fine-tuning epochs numbered after the head's.
TrainResult train_transfer(Model& model, const std::vector<Example>& train_set,
                           std::vector<torch::Tensor> features, const TrainParams& p,
                           const std::string& resume = "");

}  // namespace genre
