#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include "model/batch_norm.h"
#include "model/batch_norm_pool.h"

namespace genre {
namespace {

struct Layers {
  torch::nn::BatchNorm2d bn;
  torch::nn::MaxPool2d pool;
};

// A batch norm with a negative, a zero-crossing and positive scales, and a pool.
Layers make_layers(int64_t channels, std::pair<int64_t, int64_t> kernel) {
  Layers l{torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(channels).eps(1e-3)),
           torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions({kernel.first, kernel.second}))};
  torch::NoGradGuard no_grad;
  l.bn->weight.copy_(torch::linspace(-1.5, 2.0, channels));
  l.bn->bias.copy_(torch::linspace(0.5, -0.5, channels));
  l.bn->running_var.fill_(2.0);
  l.bn->train();
  return l;
}

void copy_parameters(const Layers& from, Layers& to) {
  torch::NoGradGuard no_grad;
  to.bn->weight.copy_(from.bn->weight);
  to.bn->bias.copy_(from.bn->bias);
  to.bn->running_mean.copy_(from.bn->running_mean);
  to.bn->running_var.copy_(from.bn->running_var);
}

void expect_close(const torch::Tensor& ours, const torch::Tensor& ref, const char* what) {
  EXPECT_TRUE(torch::allclose(ours, ref, 1e-4, 1e-4))
      << what << ": max difference " << (ours - ref).abs().max().item<float>();
}

// Output, every gradient and the running statistics against LibTorch's pool(bn(x)), on shapes
// that leave rows and columns past the last window, with one channel's values far from zero
// (the variance must not cancel) and negative scales (where the max becomes the min).
TEST(BatchNormMaxPool, MatchesLibTorchsBatchNormThenMaxPool) {
  const std::vector<std::pair<std::vector<int64_t>, std::pair<int64_t, int64_t>>> cases = {
      {{3, 5, 7, 11}, {2, 3}},
      {{2, 4, 12, 40}, {4, 4}},
      {{1, 3, 6, 6}, {3, 3}},
      {{2, 4, 9, 37}, {2, 2}}};  // 2 x 2: 16 windows a row on the AVX2 path, 2 after it
  for (const auto& [shape, kernel] : cases) {
    torch::manual_seed(11);
    torch::Tensor x = torch::randn(shape);
    x.select(1, 1).add_(300.0f);
    Layers ours = make_layers(shape[1], kernel), ref = make_layers(shape[1], kernel);
    copy_parameters(ours, ref);
    torch::Tensor x_ours = x.clone().requires_grad_(true), x_ref = x.clone().requires_grad_(true);
    ASSERT_TRUE(batch_norm_max_pool_applies(ours.bn, ours.pool, x_ours));
    const torch::Tensor y = batch_norm_max_pool(ours.bn, ours.pool, x_ours);
    const torch::Tensor y_ref = ref.pool(ref.bn(x_ref));
    ASSERT_EQ(y.sizes(), y_ref.sizes());
    expect_close(y, y_ref, "output");
    const torch::Tensor upstream = torch::randn_like(y);
    (y * upstream).sum().backward();
    (y_ref * upstream).sum().backward();
    expect_close(x_ours.grad(), x_ref.grad(), "input gradient");
    expect_close(ours.bn->weight.grad(), ref.bn->weight.grad(), "weight gradient");
    expect_close(ours.bn->bias.grad(), ref.bn->bias.grad(), "bias gradient");
    expect_close(ours.bn->running_mean, ref.bn->running_mean, "running mean");
    expect_close(ours.bn->running_var, ref.bn->running_var, "running variance");
    EXPECT_EQ(ours.bn->num_batches_tracked.item<int64_t>(),
              ref.bn->num_batches_tracked.item<int64_t>());
  }
}

// Values on a coarse grid tie often inside a window: the gradient must go where max_pool2d sends
// it, the first of the tied values in row-major order (in the max and, for negative scales, the
// min), on the AVX2 2 x 2 path and the portable one alike.
TEST(BatchNormMaxPool, SendsTheGradientToTheFirstOfTiedValues) {
  for (const auto& kernel : {std::pair<int64_t, int64_t>{2, 2}, {2, 3}}) {
    torch::manual_seed(3);
    const torch::Tensor x = torch::randint(0, 3, {2, 4, 8, 48}).to(torch::kFloat32);
    Layers ours = make_layers(4, kernel), ref = make_layers(4, kernel);
    copy_parameters(ours, ref);
    torch::Tensor x_ours = x.clone().requires_grad_(true), x_ref = x.clone().requires_grad_(true);
    const torch::Tensor y = batch_norm_max_pool(ours.bn, ours.pool, x_ours);
    const torch::Tensor y_ref = ref.pool(ref.bn(x_ref));
    expect_close(y, y_ref, "output");
    const torch::Tensor upstream = torch::randn_like(y);
    (y * upstream).sum().backward();
    (y_ref * upstream).sum().backward();
    expect_close(x_ours.grad(), x_ref.grad(), "input gradient");
  }
}

// Each channel's sums run in one task in a fixed order: one thread and two give the same bits.
TEST(BatchNormMaxPool, GivesTheSameBitsForAnyThreadCount) {
  torch::manual_seed(5);
  const torch::Tensor x = torch::randn({4, 6, 16, 50});
  const torch::Tensor upstream = torch::randn({4, 6, 8, 25});
  std::vector<torch::Tensor> results;
  const int threads = at::get_num_threads();
  for (int n : {1, 2}) {
    at::set_num_threads(n);
    Layers l = make_layers(6, {2, 2});
    torch::Tensor xi = x.clone().requires_grad_(true);
    const torch::Tensor y = batch_norm_max_pool(l.bn, l.pool, xi);
    (y * upstream).sum().backward();
    results.push_back(torch::cat({y.flatten(), xi.grad().flatten(), l.bn->weight.grad()}));
  }
  at::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(results[0], results[1]));
}

TEST(BatchNormMaxPool, LeavesTheInputGradientOutWhenNotNeeded) {
  Layers l = make_layers(3, {2, 2});
  const torch::Tensor x = torch::randn({2, 3, 4, 4});
  batch_norm_max_pool(l.bn, l.pool, x).sum().backward();
  EXPECT_FALSE(x.grad().defined());
  ASSERT_TRUE(l.bn->bias.grad().defined());
  // d sum(y) / d bias is the number of pooled values per channel.
  EXPECT_TRUE(torch::allclose(l.bn->bias.grad(), torch::full({3}, 8.0f)));
}

struct NoReducer : BatchNormReducer {
  void all_reduce_sum(torch::Tensor&) override {}
};

TEST(BatchNormMaxPool, LeavesOtherCasesToLibTorch) {
  const torch::Tensor x = torch::randn({2, 3, 8, 8});
  Layers l = make_layers(3, {2, 2});
  EXPECT_TRUE(batch_norm_max_pool_applies(l.bn, l.pool, x));
  EXPECT_FALSE(batch_norm_max_pool_applies(l.bn, l.pool, x.to(torch::kDouble)));
  EXPECT_FALSE(
      batch_norm_max_pool_applies(l.bn, l.pool, x.contiguous(torch::MemoryFormat::ChannelsLast)));
  EXPECT_FALSE(batch_norm_max_pool_applies(l.bn, l.pool, torch::randn({2, 3, 1, 8})));
  torch::nn::MaxPool2d none(torch::nn::MaxPool2dOptions(1));  // one value per channel: an error
  EXPECT_TRUE(batch_norm_max_pool_applies(l.bn, none, torch::randn({1, 3, 2, 1})));
  EXPECT_FALSE(batch_norm_max_pool_applies(l.bn, none, torch::randn({1, 3, 1, 1})));
  {
    NoReducer reducer;
    BatchNormSyncGuard sync(&reducer);  // cross-process statistics: batch_norm.h's op
    EXPECT_FALSE(batch_norm_max_pool_applies(l.bn, l.pool, x));
  }
  torch::nn::MaxPool2d overlapping(torch::nn::MaxPool2dOptions(3).stride(2));
  EXPECT_FALSE(batch_norm_max_pool_applies(l.bn, overlapping, x));
  torch::nn::MaxPool2d padded(torch::nn::MaxPool2dOptions(2).padding(1));
  EXPECT_FALSE(batch_norm_max_pool_applies(l.bn, padded, x));
  l.bn->eval();
  EXPECT_FALSE(batch_norm_max_pool_applies(l.bn, l.pool, x));
}

}  // namespace
}  // namespace genre
