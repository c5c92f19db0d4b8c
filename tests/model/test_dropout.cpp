#include <gtest/gtest.h>

#include "model/crnn.h"
#include "model/dropout.h"

namespace genre {
namespace {

TEST(HashedDropout, DropsTheRequestedShareAndScalesTheRest) {
  const torch::Tensor mask = hashed_dropout_mask(torch::zeros({1 << 20}), 0.1, 42);
  const double kept = mask.gt(0).sum().item<int64_t>() / static_cast<double>(mask.numel());
  EXPECT_NEAR(kept, 0.9, 0.002);  // 1M draws: the binomial's sd is 0.0003
  const torch::Tensor values = std::get<0>(torch::_unique(mask));
  ASSERT_EQ(values.numel(), 2);
  EXPECT_EQ(values[0].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(values[1].item<float>(), 1.0f / 0.9f);
}

TEST(HashedDropout, MaskDependsOnTheSeedOnlyNotOnThreads) {
  const torch::Tensor like = torch::zeros({32, 64, 24, 341});
  const int threads = torch::get_num_threads();
  torch::set_num_threads(1);
  const torch::Tensor one_thread = hashed_dropout_mask(like, 0.1, 7);
  torch::set_num_threads(2);
  const torch::Tensor two_threads = hashed_dropout_mask(like, 0.1, 7);
  torch::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(one_thread, two_threads));
  EXPECT_FALSE(torch::equal(one_thread, hashed_dropout_mask(like, 0.1, 8)));
}

TEST(HashedDropout, NeighbouringElementsAreIndependent) {
  // Adjacent positions of a counter hash must not be correlated: the share of kept pairs is
  // 0.9 * 0.9 when they are independent.
  const torch::Tensor kept = hashed_dropout_mask(torch::zeros({1 << 20}), 0.1, 3).gt(0);
  const torch::Tensor both = kept.slice(0, 0, -1).logical_and(kept.slice(0, 1));
  EXPECT_NEAR(both.sum().item<int64_t>() / static_cast<double>(both.numel()), 0.81, 0.003);
}

TEST(HashedDropout, FollowsTheGlobalSeedAndPassesGradientsThroughTheMask) {
  const torch::Tensor x = torch::randn({4, 8, 6, 10}).contiguous(torch::MemoryFormat::ChannelsLast);
  const torch::Tensor input = x.clone().requires_grad_(true);
  torch::manual_seed(5);
  const torch::Tensor y = hashed_dropout(input, 0.25, true);
  torch::manual_seed(5);
  EXPECT_TRUE(torch::equal(y, hashed_dropout(x, 0.25, true)));
  EXPECT_TRUE(y.is_contiguous(torch::MemoryFormat::ChannelsLast));
  y.sum().backward();
  // The gradient is the mask: 0 where dropped, 1 / (1 - p) where kept, and y = x * mask.
  const torch::Tensor grad = input.grad();
  EXPECT_TRUE(torch::allclose(y, x * grad));
  EXPECT_TRUE(torch::logical_or(grad.eq(0), grad.eq(1.0f / 0.75f)).all().item<bool>());
}

TEST(HashedDropout, IsTheIdentityOutsideTrainingAndAtZero) {
  const torch::Tensor x = torch::randn({3, 5});
  EXPECT_TRUE(hashed_dropout(x, 0.5, false).is_same(x));
  EXPECT_TRUE(hashed_dropout(x, 0.0, true).is_same(x));
}

}  // namespace
}  // namespace genre
