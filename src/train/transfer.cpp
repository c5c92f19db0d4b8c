#include "train/transfer.h"

#include <cstdio>

#include "common/error.h"
#include "model/inference.h"
#include "train/frozen.h"

namespace genre {

TrainResult train_transfer(Model& model, const std::vector<Example>& train_set,
                           std::vector<torch::Tensor> features, const TrainParams& p,
                           const std::string& resume) {
  if (!model.info.arch.is_transfer())
    throw Error(ErrorKind::kInvalidArgument, "", "train_transfer needs a transfer model");
  // Checked before the head stage, so that a bad setting does not fail only after it.
  check_fine_tuning_params(p);
  const torch::Device device = resolve_device(p.device);
  if (features.empty())
    features = frozen_inputs(model, train_set, Freeze::kAllButOutput, p.batch_size, device);
  TrainParams head = p;
  head.checkpoint.clear();  // the head stage takes seconds: it is re-run, never resumed
  TrainResult result = train_frozen(model, features, train_set, Freeze::kAllButOutput, head);
  if (p.fine_tune_epochs <= 0) return result;

  TrainParams tune = p;
  tune.epochs = p.fine_tune_epochs;
  if (tune.backbone_lr < 0) tune.backbone_lr = p.lr / 10;
  tune.log_jsonl.clear();  // written below, with the head stage's epochs before these
  if (!p.quiet)
    std::fprintf(stderr, "fine-tuning the whole model: %d epochs, head lr %g, backbones lr %g\n",
                 tune.epochs, tune.lr, tune.backbone_lr);
  // The feature standardisation fitted by the head stage stays as it is (buffers, not trained).
  const TrainResult tuned = train(model, train_set, {}, tune, resume);
  for (EpochStats stats : tuned.history) {
    stats.epoch += p.epochs;
    result.history.push_back(stats);
  }
  result.best_epoch = p.epochs + tuned.best_epoch;
  result.best_valid_score = tuned.best_valid_score;
  result.seconds += tuned.seconds;
  if (!p.log_jsonl.empty()) write_training_log(p.log_jsonl, result.history);
  return result;
}

}  // namespace genre
