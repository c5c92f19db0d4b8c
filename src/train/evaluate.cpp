// Track-level evaluation of examples and the JSON forms of training parameters and statistics.
#include <algorithm>
#include <cmath>

#include "model/inference.h"
#include "train/distributed.h"
#include "train/trainer.h"

namespace genre {

void to_json(nlohmann::json& j, const EpochStats& s) {
  j = {{"epoch", s.epoch},
       {"train_loss", s.train_loss},
       {"train_accuracy", s.train_accuracy},
       {"valid_loss", s.valid_loss},
       {"valid_score", s.valid_score},
       {"lr", s.lr},
       {"samples_per_second", s.samples_per_second},
       {"seconds", s.seconds},
       {"best", s.best},
       {"world_size", s.world_size},
       {"global_batch_size", s.global_batch_size}};
}

void from_json(const nlohmann::json& j, EpochStats& s) {
  s.epoch = j.at("epoch");
  s.train_loss = j.at("train_loss");
  s.train_accuracy = j.at("train_accuracy");
  s.valid_loss = j.at("valid_loss");
  s.valid_score = j.at("valid_score");
  s.lr = j.at("lr");
  s.samples_per_second = j.at("samples_per_second");
  s.seconds = j.at("seconds");
  s.best = j.at("best");
  s.world_size = j.value("world_size", 1);  // absent from logs of genre 0.1's first releases
  s.global_batch_size = j.value("global_batch_size", 0);
}

namespace {

// Each process of a job scores the examples it owns; one sum gives every process all rows.
torch::Tensor sharded_probabilities(Model& model, const std::vector<Example>& set, int batch_size,
                                    torch::Device device, CropPolicy policy) {
  DistributedJob& job = distributed_job();
  std::vector<const Spectrogram*> tracks;
  std::vector<int> valid;
  std::vector<int64_t> rows;
  for (std::size_t i = 0; i < set.size(); ++i) {
    if (!job.owns(i)) continue;
    tracks.push_back(set[i].logmel), valid.push_back(set[i].valid_frames);
    rows.push_back(static_cast<int64_t>(i));
  }
  if (!job.enabled()) return track_probabilities(model, tracks, valid, batch_size, device, policy);
  torch::Tensor all = torch::zeros({static_cast<int64_t>(set.size()), model.info.arch.n_classes});
  if (!tracks.empty())
    all.index_copy_(0, torch::tensor(rows, torch::kLong),
                    track_probabilities(model, tracks, valid, batch_size, device, policy));
  job.all_reduce_sum(all);
  return all;
}

}  // namespace

EvalScores evaluate_examples(Model& model, const std::vector<Example>& set, int batch_size,
                             torch::Device device, CropPolicy policy) {
  EvalScores out;
  if (set.empty()) return out;
  out.probabilities = sharded_probabilities(model, set, batch_size, device, policy);
  const bool multi = model.info.arch.mode == OutputMode::kMultiLabel;
  const auto probs = out.probabilities.accessor<float, 2>();
  const int C = model.info.arch.n_classes;
  double loss = 0;
  int correct = 0, tp = 0, fp = 0, fn = 0;
  for (std::size_t i = 0; i < set.size(); ++i) {
    int best = 0;
    for (int c = 1; c < C; ++c)
      if (probs[i][c] > probs[i][best]) best = c;
    out.predicted.push_back(best);
    const auto& labels = set[i].labels;
    if (multi) {
      for (int c = 0; c < C; ++c) {
        const bool truth = std::find(labels.begin(), labels.end(), c) != labels.end();
        const double p = std::clamp<double>(probs[i][c], 1e-7, 1 - 1e-7);
        loss -= truth ? std::log(p) : std::log(1 - p);
        const bool on = probs[i][c] >= 0.5f;
        tp += on && truth, fp += on && !truth, fn += !on && truth;
      }
    } else {
      loss -= std::log(std::max<double>(probs[i][labels[0]], 1e-7));
      correct += best == labels[0];
    }
  }
  out.loss = loss / set.size() / (multi ? C : 1);
  out.score = multi ? (tp ? 2.0 * tp / (2.0 * tp + fp + fn) : 0.0)
                    : static_cast<double>(correct) / set.size();
  return out;
}

nlohmann::json train_params_json(const TrainParams& p) {
  return {{"epochs", p.epochs},
          {"batch_size", p.batch_size},
          {"lr", p.lr},
          {"weight_decay", p.weight_decay},
          {"backbone_lr", p.backbone_lr},
          {"fine_tune_epochs", p.fine_tune_epochs},
          {"seed", p.seed},
          {"balance_classes", p.balance_classes},
          {"balance_by_crops", p.balance_by_crops},
          {"random_crop", p.random_crop},
          {"crops_per_track", p.crops_per_track},
          {"gain_db", p.gain_db},
          {"freq_masks", p.freq_masks},
          {"freq_mask_width", p.freq_mask_width},
          {"time_masks", p.time_masks},
          {"time_mask_width", p.time_mask_width},
          {"mixup_alpha", p.mixup_alpha},
          {"time_stretch", p.time_stretch},
          {"freq_shift", p.freq_shift},
          {"label_smoothing", p.label_smoothing},
          {"early_stopping", p.early_stopping},
          {"lr_patience", p.lr_patience},
          {"lr_factor", p.lr_factor},
          {"lr_schedule", p.lr_schedule},
          {"average_last", p.average_last},
          {"amp", p.amp}};
}

}  // namespace genre
