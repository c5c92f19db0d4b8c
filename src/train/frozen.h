// genre/train: transfer learning with frozen layers. The frozen part of the network runs once per
// track (its outputs are cached), then only the trainable head is fitted: a linear probe on the
// GRU embedding, or the GRUs + output layer on the frozen conv features.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "model/model_file.h"
#include "train/trainer.h"

namespace genre {

enum class Freeze {
  kConv,          // input norm + conv blocks frozen; GRUs and output layer trained
  kAllButOutput,  // linear probe: only the output layer is trained
};

// Per example: the frozen part's output for each of the model's excerpt windows (crop_offsets):
// [windows, T', C] conv sequences (kConv) or [windows, H] embeddings (kAllButOutput; for a
// transfer model the backbones' layer features).
std::vector<torch::Tensor> frozen_inputs(Model& model, const std::vector<Example>& examples,
                                         Freeze freeze, int batch_size, torch::Device device);

// Trains the head on cached inputs (one random window per example and epoch). Adam with the
// params' lr, weight decay, batch size, epochs, class balancing and seed; the last epoch is kept.
// A transfer model's feature standardisation is first fitted on `inputs`.
TrainResult train_frozen(Model& model, const std::vector<torch::Tensor>& inputs,
                         const std::vector<Example>& examples, Freeze freeze,
                         const TrainParams& params);

// Track probabilities [N, classes] from cached inputs (mean over each example's windows).
torch::Tensor frozen_probabilities(Model& model, const std::vector<torch::Tensor>& inputs,
                                   Freeze freeze);

}  // namespace genre
