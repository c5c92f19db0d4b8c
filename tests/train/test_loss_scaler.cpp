// Dynamic loss scaling (fp16 training): the policy of PyTorch's GradScaler, checked on the CPU
// with gradients the test sets by hand (fp16 autocast itself needs CUDA: tests/cli/test_cuda_cli).
#include <gtest/gtest.h>

#include <limits>

#include "common/error.h"
#include "support/test_support.h"
#include "train/loss_scaler.h"

namespace genre {
namespace {

torch::Tensor param_with_grad(std::vector<float> grad) {
  torch::Tensor p = torch::zeros({static_cast<int64_t>(grad.size())}, torch::requires_grad());
  p.mutable_grad() = torch::tensor(grad);
  return p;
}

TEST(LossScaler, ScalesTheLossAndUnscalesTheGradients) {
  LossScaler scaler(true);
  EXPECT_EQ(scaler.current_scale(), 65536.0);
  EXPECT_EQ(scaler.scale(torch::tensor(0.5)).item<double>(), 32768.0);
  torch::Tensor p = param_with_grad({65536.0f, -131072.0f});
  EXPECT_TRUE(scaler.unscale_and_check({p}));
  EXPECT_TRUE(torch::equal(p.grad(), torch::tensor({1.0f, -2.0f})));
}

TEST(LossScaler, AnOverflowSkipsTheStepAndHalvesTheScale) {
  LossScaler scaler(true);
  const float inf = std::numeric_limits<float>::infinity();
  torch::Tensor a = param_with_grad({1.0f}), b = param_with_grad({inf, 2.0f});
  EXPECT_FALSE(scaler.unscale_and_check({a, b}));
  scaler.update(false);
  EXPECT_EQ(scaler.current_scale(), 32768.0);
  EXPECT_EQ(scaler.skipped_steps(), 1);
  torch::Tensor nan = param_with_grad({std::numeric_limits<float>::quiet_NaN()});
  EXPECT_FALSE(scaler.unscale_and_check({nan}));
}

TEST(LossScaler, TheScaleGrowsAfterEnoughCleanSteps) {
  LossScalerParams params = loss_scaler_default_params();
  params.growth_interval = 3;
  LossScaler scaler(true, params);
  scaler.update(true);
  scaler.update(true);
  EXPECT_EQ(scaler.current_scale(), 65536.0);
  scaler.update(true);
  EXPECT_EQ(scaler.current_scale(), 131072.0);
  EXPECT_EQ(scaler.clean_steps(), 0);
  // An overflow restarts the count.
  scaler.update(true);
  scaler.update(false);
  scaler.update(true);
  scaler.update(true);
  EXPECT_EQ(scaler.current_scale(), 65536.0);
  scaler.restore(1024.0, 2);
  scaler.update(true);
  EXPECT_EQ(scaler.current_scale(), 2048.0);
}

TEST(LossScaler, DisabledItChangesNothing) {
  LossScaler scaler(false);
  const torch::Tensor loss = torch::tensor(0.25);
  EXPECT_TRUE(torch::equal(scaler.scale(loss), loss));
  torch::Tensor p = param_with_grad({std::numeric_limits<float>::infinity()});
  EXPECT_TRUE(scaler.unscale_and_check({p}));
  scaler.update(false);
  EXPECT_EQ(scaler.skipped_steps(), 0);
}

TEST(LossScaler, BadSettingsAreRejected) {
  LossScalerParams params = loss_scaler_default_params();
  params.backoff_factor = 1.5;
  EXPECT_EQ(test::error_kind_of([&] { LossScaler s(true, params); }),
            static_cast<int>(ErrorKind::kInvalidArgument));
}

}  // namespace
}  // namespace genre
