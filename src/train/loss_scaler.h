// genre/train: dynamic loss scaling for fp16 mixed-precision training (--amp fp16, CUDA).
// fp16 gradients underflow to zero below ~6e-8, so the loss is multiplied by a large scale
// before backward() and the gradients divided by it before the optimizer step. A step whose
// gradients overflowed (inf or NaN) is skipped and the scale halved; after `growth_interval`
// clean steps in a row the scale doubles. The same policy and defaults as PyTorch's
// torch.cuda.amp.GradScaler, so runs behave as users of PyTorch expect.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace genre {

struct LossScalerParams {
  double init_scale = 65536.0;  // 2^16
  double growth_factor = 2.0;
  double backoff_factor = 0.5;
  int growth_interval = 2000;
};

LossScalerParams loss_scaler_default_params();

class LossScaler {
 public:
  // enabled false: scale() returns the loss as it is and unscale_and_check() only says true.
  LossScaler(bool enabled, const LossScalerParams& params = loss_scaler_default_params());

  // The loss to call backward() on.
  torch::Tensor scale(const torch::Tensor& loss) const;
  // Divides every gradient by the scale (in place) and says whether all are finite; call after
  // the gradients are complete (all-reduced, in a distributed job, so every process decides
  // alike). false: skip optimizer.step() for this batch.
  bool unscale_and_check(const std::vector<torch::Tensor>& params);
  // Updates the scale after a step: halves it after an overflow, grows it after
  // growth_interval clean steps.
  void update(bool step_was_finite);

  bool enabled() const { return enabled_; }
  double current_scale() const { return scale_; }
  int clean_steps() const { return clean_steps_; }
  long skipped_steps() const { return skipped_; }
  // For checkpoints: a resumed run continues with the same scale.
  void restore(double scale, int clean_steps);

 private:
  bool enabled_;
  LossScalerParams params_;
  double scale_;
  int clean_steps_ = 0;
  long skipped_ = 0;
};

}  // namespace genre
