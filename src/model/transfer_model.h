// genre/model: transfer models, genre classifiers built on frozen pretrained CRNNs (backbones).
// The backbones' layer features (see CrnnImpl::layer_features) are concatenated, standardised
// and classified by one dense layer; everything lives in one model file like any other model.
#pragma once

#include <string>
#include <vector>

#include "model/model_file.h"

namespace genre {

struct TransferParams {
  // Frames per window the backbones see (0: the whole excerpt). With windows, training draws
  // one window per track and epoch and prediction averages the windows' probabilities.
  int input_frames = 0;
  double final_dropout = 0.0;  // dropout on the standardised features in training
  int head_hidden = 0;         // a hidden ReLU layer of this width in the head (0: none)
};

TransferParams transfer_default_params();

// An untrained transfer model over `backbones` (their weights copied; the head initialised from
// the current torch seed, standardisation the identity). The backbones must share one feature
// config, which becomes the model's. Their provenance and licence notices are kept in
// info.provenance["backbones"]. Throws genre::Error(kInvalidArgument) on mismatches.
Model make_transfer_model(const std::vector<Model>& backbones,
                          const std::vector<std::string>& classes, const TransferParams& params);

}  // namespace genre
