#include "train/loss_scaler.h"

#include "common/error.h"

namespace genre {

LossScalerParams loss_scaler_default_params() { return LossScalerParams{}; }

LossScaler::LossScaler(bool enabled, const LossScalerParams& params)
    : enabled_(enabled), params_(params), scale_(params.init_scale) {
  if (!(params.init_scale > 0) || !(params.growth_factor >= 1) ||
      !(params.backoff_factor > 0 && params.backoff_factor < 1) || params.growth_interval < 1)
    throw Error(ErrorKind::kInvalidArgument, "", "invalid loss scaler settings");
}

torch::Tensor LossScaler::scale(const torch::Tensor& loss) const {
  return enabled_ ? loss * scale_ : loss;
}

bool LossScaler::unscale_and_check(const std::vector<torch::Tensor>& params) {
  if (!enabled_) return true;
  torch::NoGradGuard no_grad;
  // The checks stay on the device and are read back once per step, not once per tensor.
  std::vector<torch::Tensor> all_finite;
  for (const auto& p : params) {
    torch::Tensor g = p.grad();
    if (!g.defined()) continue;
    g.mul_(1.0 / scale_);
    all_finite.push_back(torch::isfinite(g).all());
  }
  return all_finite.empty() || torch::stack(all_finite).all().item<bool>();
}

void LossScaler::update(bool step_was_finite) {
  if (!enabled_) return;
  if (!step_was_finite) {
    scale_ *= params_.backoff_factor;
    clean_steps_ = 0;
    ++skipped_;
    return;
  }
  if (++clean_steps_ >= params_.growth_interval) {
    scale_ *= params_.growth_factor;
    clean_steps_ = 0;
  }
}

void LossScaler::restore(double scale, int clean_steps) {
  if (!(scale > 0) || clean_steps < 0)
    throw Error(ErrorKind::kData, "", "checkpoint: invalid loss scale");
  scale_ = scale;
  clean_steps_ = clean_steps;
}

}  // namespace genre
