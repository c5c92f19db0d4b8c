// genre/train: the training loop (Adam, validation each epoch, best-model selection, early
// stopping, LR on plateau, atomic checkpoints with exact resume).
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "features/features.h"
#include "model/inference.h"
#include "model/model_file.h"

namespace genre {

struct Example {
  const Spectrogram* logmel = nullptr;
  int valid_frames = 0;
  std::vector<int> labels;  // one for single-label data
};

struct TrainParams {
  int epochs = 30;
  int batch_size = 32;
  double lr = 1e-3;
  double weight_decay = 0.0;
  // Learning rate of every layer but the head (the output layer and a transfer model's hidden
  // layer): the pretrained part when fine-tuning (--init, or a transfer model's backbones in its
  // fine-tuning stage). < 0: the same as lr; 0: those layers stay frozen.
  double backbone_lr = -1;
  // Transfer models: after the head is fitted on the backbones' frozen features, train the whole
  // model end to end this many epochs more (backbones at backbone_lr, default lr / 10).
  int fine_tune_epochs = 0;
  std::uint64_t seed = 1;
  int threads = 0;              // LibTorch intra-op threads; <= 0: all cores
  std::string device = "auto";  // auto | cpu | cuda
  // Mixed precision for the training forward pass: "none", "bf16" (autocast) or "fp16" (CUDA
  // only: autocast with dynamic loss scaling, train/loss_scaler.h).
  std::string amp = "none";
  bool balance_classes = true;  // weight the loss by inverse class frequency
  // Count class frequency over the crops an epoch draws rather than over tracks: with crops
  // proportional to length, a class of long tracks (GTZAN's classical halves) otherwise keeps
  // more loss mass than the others.
  bool balance_by_crops = false;

  // Augmentation (all off by default).
  bool random_crop = false;  // random crop offset (input_frames > 0) instead of the centre
  // Crops drawn per track and epoch (input_frames > 0): 0 = proportional to the track's length
  // (valid frames / input_frames / 2, at least 1), so long tracks are not under-sampled next to
  // short excerpts.
  int crops_per_track = 1;
  double gain_db = 0.0;                     // add a uniform random offset in [-gain_db, gain_db] dB
  int freq_masks = 0, freq_mask_width = 8;  // SpecAugment-style masks (set to the example mean)
  int time_masks = 0, time_mask_width = 16;
  double mixup_alpha = 0.0;  // mixup with Beta(alpha, alpha); 0 = off
  // Tempo and pitch (train/augment.h): each crop reads its frames at a random rate in
  // [1/(1+s), 1+s] and shifts the mel axis by a random [-f, f] bands; 0 = off.
  double time_stretch = 0.0;
  double freq_shift = 0.0;
  // Single-label: the target puts 1 - e on the label and spreads e over all classes (a softer
  // target against over-confident crops); 0 = off.
  double label_smoothing = 0.0;

  // Schedule.
  int early_stopping = 0;  // stop after this many epochs without improvement (0 = off)
  int lr_patience = 0;  // multiply the LR by lr_factor after this many epochs without improvement
  double lr_factor = 0.5;
  // "constant", or "cosine": the LR of epoch e (1-based) is lr * (1 + cos(pi (e-1) / epochs)) / 2,
  // decaying towards 0 by the last epoch (the epochs averaged by average_last get small steps).
  std::string lr_schedule = "constant";
  int average_last = 0;  // average the weights of the last N epochs (0 = keep the best)

  std::string checkpoint;  // written after every epoch (atomic); empty = none
  std::string log_jsonl;   // one JSON object per epoch; empty = none
  bool quiet = false;
};

TrainParams train_default_params();

// Throws genre::Error(kInvalidArgument) unless backbone_lr is -1 (unset) or >= 0 and
// fine_tune_epochs >= 0. train() checks it; so does a caller with stages before train().
void check_fine_tuning_params(const TrainParams& p);

struct EpochStats {
  int epoch = 0;
  double train_loss = 0, train_accuracy = 0;
  double valid_loss = 0,
         valid_score = 0;  // score: accuracy (single-label) or micro-F1 (multi-label)
  double lr = 0, samples_per_second = 0, seconds = 0;
  bool best = false;
  // A data-parallel job's processes and its global batch (batch size x processes).
  int world_size = 1, global_batch_size = 0;
};
void to_json(nlohmann::json& j, const EpochStats& s);
void from_json(const nlohmann::json& j, EpochStats& s);

struct TrainResult {
  std::vector<EpochStats> history;
  int best_epoch = 0;
  double best_valid_score = 0;
  double seconds = 0;
};

// Crops of an example drawn in each epoch of a model that sees `length` of `total_frames` frames
// (1 when it sees whole excerpts).
int crops_per_epoch(const Example& e, const TrainParams& p, int length, int total_frames);

// Single-label loss weights: inverse class frequency counted over tracks, or over the crops an
// epoch draws (p.balance_by_crops); all 1 when p.balance_classes is off.
std::vector<float> class_weights(const std::vector<Example>& train_set, const TrainParams& p,
                                 int n_classes, int length, int total_frames);

// Trains model.net in place; at the end it holds the selected weights (best validation score, or
// the average of the last epochs). With an empty validation set the last epoch is kept.
// `resume`: a checkpoint written by an earlier run with the same data and params.
TrainResult train(Model& model, const std::vector<Example>& train_set,
                  const std::vector<Example>& valid_set, const TrainParams& params,
                  const std::string& resume = "");

// Mean loss and score of the model on a set (track-level, with the model's excerpt policy). In a
// data-parallel job each process scores its share of the set and all get the whole result.
struct EvalScores {
  double loss = 0, score = 0;
  std::vector<int> predicted;   // arg-max class per example
  torch::Tensor probabilities;  // [N, classes]
};
EvalScores evaluate_examples(Model& model, const std::vector<Example>& set, int batch_size,
                             torch::Device device, CropPolicy policy = CropPolicy::kSharedConv);

}  // namespace genre

namespace genre {
nlohmann::json train_params_json(const TrainParams& p);
// The JSONL training log (one EpochStats per line), rewritten whole and atomically.
void write_training_log(const std::string& path, const std::vector<EpochStats>& history);
}  // namespace genre
