#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include "model/winograd_conv.h"

namespace genre {
namespace {

bool cpu_suits() {
  const torch::Tensor x = torch::zeros({1, 8, 4, 4}).contiguous(torch::MemoryFormat::ChannelsLast);
  return winograd_conv3x3_applies(x, torch::zeros({16, 8, 3, 3}));
}

torch::Tensor channels_last(const torch::Tensor& x) {
  return x.contiguous(torch::MemoryFormat::ChannelsLast);
}

// Largest difference to LibTorch's conv, relative to the largest output.
float relative_error(const torch::Tensor& ours, const torch::Tensor& ref) {
  return ((ours - ref).abs().max() / ref.abs().max()).item<float>();
}

// Against LibTorch's conv2d: sizes that fill the 4x4 tiles and sizes that leave partial tiles
// at the bottom and right, heights and widths below one tile, batches whose tiles span blocks,
// channel counts of one and several vectors, with and without a bias.
TEST(WinogradConv, MatchesLibTorchsConv) {
  if (!cpu_suits()) GTEST_SKIP() << "needs a CPU with AVX2 and FMA and without AVX-512";
  struct Case {
    std::vector<int64_t> shape;
    int64_t out_channels;
    bool bias;
  };
  const std::vector<Case> cases = {{{1, 8, 4, 4}, 16, true},    {{2, 8, 5, 7}, 16, true},
                                   {{1, 16, 1, 1}, 32, true},   {{3, 8, 2, 30}, 16, false},
                                   {{2, 64, 12, 45}, 128, true}, {{1, 24, 17, 3}, 48, true}};
  for (const auto& c : cases) {
    torch::manual_seed(3);
    const torch::Tensor x = channels_last(torch::randn(c.shape));
    const torch::Tensor w = torch::randn({c.out_channels, c.shape[1], 3, 3});
    const torch::Tensor b = c.bias ? torch::randn({c.out_channels}) : torch::Tensor();
    ASSERT_TRUE(winograd_conv3x3_applies(x, w));
    const torch::Tensor ours = winograd_conv3x3(x, winograd_weights(w), b);
    const torch::Tensor ref = torch::conv2d(x, w, b, 1, 1);
    ASSERT_EQ(ours.sizes(), ref.sizes());
    EXPECT_TRUE(ours.is_contiguous(torch::MemoryFormat::ChannelsLast));
    EXPECT_LT(relative_error(ours, ref), 1e-5) << "input " << x.sizes();
  }
}

// Padding on some sides only (the inference form's slices of frames bring their own columns),
// and an input that is a slice of a wider channels-last tensor (no copy made).
TEST(WinogradConv, TakesPaddingPerSideAndStridedSlices) {
  if (!cpu_suits()) GTEST_SKIP() << "needs a CPU with AVX2 and FMA and without AVX-512";
  torch::manual_seed(5);
  const torch::Tensor wide = channels_last(torch::randn({2, 16, 9, 40}));
  const torch::Tensor w = torch::randn({32, 16, 3, 3}), b = torch::randn({32});
  const torch::Tensor piece = wide.narrow(3, 11, 18);
  ASSERT_TRUE(winograd_conv3x3_applies(piece, w));
  const torch::Tensor u = winograd_weights(w);
  for (const ConvPadding pad : {ConvPadding{1, 1, 0, 0}, ConvPadding{1, 1, 1, 0},
                                ConvPadding{0, 1, 0, 1}, ConvPadding{0, 0, 0, 0}}) {
    const torch::Tensor padded =
        torch::constant_pad_nd(piece, {pad.left, pad.right, pad.top, pad.bottom});
    const torch::Tensor ref = torch::conv2d(padded, w, b);
    const torch::Tensor ours = winograd_conv3x3(piece, u, b, pad);
    ASSERT_EQ(ours.sizes(), ref.sizes());
    EXPECT_LT(relative_error(ours, ref), 1e-5)
        << "padding " << pad.top << pad.bottom << pad.left << pad.right;
  }
}

// Tiles are split between threads, each tile computed whole by one: the same bits for any
// thread count.
TEST(WinogradConv, IsTheSameForAnyThreadCount) {
  if (!cpu_suits()) GTEST_SKIP() << "needs a CPU with AVX2 and FMA and without AVX-512";
  torch::manual_seed(9);
  const torch::Tensor x = channels_last(torch::randn({2, 32, 24, 70}));
  const torch::Tensor u = winograd_weights(torch::randn({64, 32, 3, 3}));
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  const torch::Tensor one = winograd_conv3x3(x, u, torch::Tensor());
  at::set_num_threads(2);
  const torch::Tensor two = winograd_conv3x3(x, u, torch::Tensor());
  at::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(one, two));
}

TEST(WinogradConv, AppliesOnlyToWhatItComputes) {
  if (!cpu_suits()) GTEST_SKIP() << "needs a CPU with AVX2 and FMA and without AVX-512";
  const torch::Tensor w = torch::zeros({16, 8, 3, 3});
  EXPECT_TRUE(winograd_conv3x3_applies(channels_last(torch::zeros({1, 8, 6, 6})), w));
  EXPECT_FALSE(winograd_conv3x3_applies(torch::zeros({1, 8, 6, 6}), w));  // NCHW
  EXPECT_FALSE(winograd_conv3x3_applies(channels_last(torch::zeros({1, 8, 6, 6})).to(torch::kDouble),
                                        w.to(torch::kDouble)));
  EXPECT_FALSE(winograd_conv3x3_applies(channels_last(torch::zeros({1, 4, 6, 6})),
                                        torch::zeros({16, 4, 3, 3})));  // channels not 8k
  EXPECT_FALSE(winograd_conv3x3_applies(channels_last(torch::zeros({1, 8, 6, 6})),
                                        torch::zeros({12, 8, 3, 3})));  // outputs not 16k
  EXPECT_FALSE(winograd_conv3x3_applies(channels_last(torch::zeros({1, 8, 6, 6})),
                                        torch::zeros({16, 8, 5, 5})));
}

}  // namespace
}  // namespace genre
