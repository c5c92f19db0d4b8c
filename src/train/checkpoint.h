// genre/train: the trainer's checkpoint: weights, optimizer state, schedule counters, history,
// and the best and averaged weights, so that a resumed run repeats an uninterrupted one exactly.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "model/crnn.h"
#include "train/trainer.h"

namespace genre {

// Named copies of a network's parameters and buffers.
using WeightMap = std::vector<std::pair<std::string, torch::Tensor>>;
WeightMap snapshot(Crnn& net);
void restore(Crnn& net, const WeightMap& w);

// Everything of a training run besides the network and the optimizer.
struct TrainerState {
  int epoch = 0;  // the last completed epoch
  int bad_epochs = 0, plateau_epochs = 0, averaged = 0;
  double lr = 0;
  double loss_scale = 0;  // fp16 training's loss scaler (0: none)
  int loss_scale_clean_steps = 0;
  TrainResult result;
  WeightMap best_weights, average;
};

// Written atomically: a killed run leaves the previous checkpoint whole.
void save_checkpoint(const std::string& path, Crnn& net, torch::optim::Adam& optimizer,
                     const TrainerState& state);
// `bytes`: the checkpoint file's content (read by rank 0 and shared with the job); `path` names
// it in errors. Loads the network and optimizer in place.
TrainerState load_checkpoint(const std::string& bytes, const std::string& path, Crnn& net,
                             torch::optim::Adam& optimizer, torch::Device device);

}  // namespace genre
