// Predictor::with_params: per-request parameters over one prepared model.
#include "common/error.h"
#include "predict/predictor.h"

namespace genre {

Predictor::Predictor(Model model, PredictParams params, torch::Device device)
    : model_(std::move(model)), params_(std::move(params)), device_(device) {
  if (params_.batch_size < 1)
    throw Error(ErrorKind::kInvalidArgument, "", "batch size must be >= 1");
}

Predictor Predictor::with_params(PredictParams params) const {
  params.device = params_.device;
  return Predictor(model_, std::move(params), device_);
}

}  // namespace genre
