#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include "model/first_conv_pool.h"

namespace genre {
namespace {

bool cpu_suits() {
  return first_conv_pool_applies(torch::zeros({1, 1, 4, 4}), torch::zeros({8, 1, 3, 3}));
}

// Against LibTorch's conv2d -> max_pool2d: pools of the CRNNs' first blocks and others, sizes
// that leave a tail the pool drops, fewer columns than one register block, a one-row pool.
TEST(FirstConvPool, MatchesLibTorchsConvThenMaxPool) {
  if (!cpu_suits()) GTEST_SKIP() << "needs a CPU with AVX2 and FMA and without AVX-512";
  struct Case {
    std::vector<int64_t> shape;
    int64_t out_channels;
    std::pair<int64_t, int64_t> pool;
  };
  const std::vector<Case> cases = {{{2, 1, 12, 40}, 16, {2, 2}}, {{1, 1, 13, 41}, 8, {2, 2}},
                                   {{1, 1, 9, 50}, 24, {3, 3}},  {{3, 1, 8, 9}, 8, {2, 4}},
                                   {{1, 1, 6, 7}, 64, {1, 2}},   {{1, 1, 96, 301}, 64, {2, 2}}};
  for (const auto& c : cases) {
    torch::manual_seed(11);
    const torch::Tensor x = torch::randn(c.shape), w = torch::randn({c.out_channels, 1, 3, 3}),
                        b = torch::randn({c.out_channels});
    const torch::Tensor ours = first_conv_pool(x, w, b, c.pool);
    const torch::Tensor ref = torch::max_pool2d(torch::conv2d(x, w, b, 1, 1),
                                                {c.pool.first, c.pool.second});
    ASSERT_EQ(ours.sizes(), ref.sizes()) << x.sizes();
    EXPECT_TRUE(ours.is_contiguous(torch::MemoryFormat::ChannelsLast));
    EXPECT_TRUE(torch::allclose(ours, ref, 1e-5, 1e-5))
        << x.sizes() << ": max difference " << (ours - ref).abs().max().item<float>();
  }
}

// Without a bias, and from a channels-last input (a one-channel tensor either way in memory).
TEST(FirstConvPool, TakesNoBiasAndEitherLayout) {
  if (!cpu_suits()) GTEST_SKIP() << "needs a CPU with AVX2 and FMA and without AVX-512";
  torch::manual_seed(12);
  const torch::Tensor x = torch::randn({2, 1, 10, 33}), w = torch::randn({16, 1, 3, 3});
  const torch::Tensor ref = torch::max_pool2d(torch::conv2d(x, w, {}, 1, 1), {2, 2});
  const torch::Tensor last = x.contiguous(torch::MemoryFormat::ChannelsLast);
  ASSERT_TRUE(first_conv_pool_applies(last, w));
  EXPECT_TRUE(torch::allclose(first_conv_pool(x, w, {}, {2, 2}), ref, 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(first_conv_pool(last, w, {}, {2, 2}), ref, 1e-5, 1e-5));
}

// Each pooled row is one task: one thread and two give the same bits.
TEST(FirstConvPool, IsTheSameForAnyThreadCount) {
  if (!cpu_suits()) GTEST_SKIP() << "needs a CPU with AVX2 and FMA and without AVX-512";
  torch::manual_seed(13);
  const torch::Tensor x = torch::randn({2, 1, 24, 100}), w = torch::randn({32, 1, 3, 3}),
                      b = torch::randn({32});
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  const torch::Tensor one = first_conv_pool(x, w, b, {2, 2});
  at::set_num_threads(2);
  const torch::Tensor two = first_conv_pool(x, w, b, {2, 2});
  at::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(one, two));
}

TEST(FirstConvPool, AppliesOnlyToWhatItComputes) {
  if (!cpu_suits()) GTEST_SKIP() << "needs a CPU with AVX2 and FMA and without AVX-512";
  const torch::Tensor x = torch::zeros({1, 1, 6, 6});
  EXPECT_TRUE(first_conv_pool_applies(x, torch::zeros({8, 1, 3, 3})));
  EXPECT_FALSE(first_conv_pool_applies(torch::zeros({1, 2, 6, 6}), torch::zeros({8, 2, 3, 3})));
  EXPECT_FALSE(first_conv_pool_applies(x, torch::zeros({12, 1, 3, 3})));  // not 8 channels each
  EXPECT_FALSE(first_conv_pool_applies(x.to(torch::kDouble), torch::zeros({8, 1, 3, 3})));
  EXPECT_FALSE(first_conv_pool_applies(x.transpose(2, 3), torch::zeros({8, 1, 3, 3})));
}

}  // namespace
}  // namespace genre
