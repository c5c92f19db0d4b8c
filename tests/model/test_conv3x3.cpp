#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include "model/conv3x3.h"

namespace genre {
namespace {

// conv3x3_training itself takes any width; applies() also asks for rows of 256 columns or more.
bool cpu_suits() {
  return conv3x3_training_applies(torch::zeros({1, 2, 4, 256}), torch::zeros({3, 2, 3, 3}));
}

void expect_close(const torch::Tensor& ours, const torch::Tensor& ref, const char* what) {
  EXPECT_TRUE(torch::allclose(ours, ref, 1e-4, 1e-4))
      << what << ": max difference " << (ours - ref).abs().max().item<float>();
}

// conv3x3_training and LibTorch's conv2d on copies of the same x, weight and bias; the three
// gradients for the same upstream gradient compared. Returns both outputs (ours, LibTorch's).
std::pair<torch::Tensor, torch::Tensor> run_both_and_compare_gradients(const torch::Tensor& x,
                                                                       const torch::Tensor& w,
                                                                       const torch::Tensor& b) {
  std::vector<torch::Tensor> ours = {x.clone().requires_grad_(true),
                                     w.clone().requires_grad_(true),
                                     b.clone().requires_grad_(true)};
  std::vector<torch::Tensor> ref = {x.clone().requires_grad_(true),
                                    w.clone().requires_grad_(true),
                                    b.clone().requires_grad_(true)};
  const torch::Tensor y = conv3x3_training(ours[0], ours[1], ours[2]);
  const torch::Tensor y_ref = torch::conv2d(ref[0], ref[1], ref[2], 1, 1);
  const torch::Tensor upstream = torch::randn_like(y);
  (y * upstream).sum().backward();
  (y_ref * upstream).sum().backward();
  expect_close(ours[0].grad(), ref[0].grad(), "input gradient");
  expect_close(ours[1].grad(), ref[1].grad(), "weight gradient");
  expect_close(ours[2].grad(), ref[2].grad(), "bias gradient");
  return {y.detach(), y_ref.detach()};
}

// Every gradient against LibTorch's conv2d backward, on widths below, at and past the 8-column
// blocks and their edges (the padding), heights of 1 and more, and output channels that leave a
// remainder after the blocks of three.
TEST(Conv3x3, MatchesLibTorchsConvAndItsGradients) {
  if (!cpu_suits()) GTEST_SKIP() << "needs a CPU with AVX2 and FMA and without AVX-512";
  const std::vector<std::pair<std::vector<int64_t>, int64_t>> cases = {{{2, 3, 5, 37}, 5},
                                                                       {{3, 2, 1, 7}, 4},
                                                                       {{1, 4, 6, 9}, 3},
                                                                       {{2, 8, 4, 16}, 7},
                                                                       {{2, 5, 3, 26}, 1}};
  for (const auto& [shape, out_channels] : cases) {
    torch::manual_seed(7);
    const torch::Tensor x = torch::randn(shape), w = torch::randn({out_channels, shape[1], 3, 3}),
                        b = torch::randn({out_channels});
    const auto [y, y_ref] = run_both_and_compare_gradients(x, w, b);
    EXPECT_TRUE(torch::equal(y, y_ref));
  }
}

// Channel counts that suit Winograd's conv (winograd_conv.h) take it for the forward and the
// input gradient: the same values as LibTorch's up to its rounding, on rows shorter and longer
// than the weight-gradient kernel's 256 columns.
TEST(Conv3x3, WinogradForwardAndInputGradientMatchLibTorch) {
  if (!cpu_suits()) GTEST_SKIP() << "needs a CPU with AVX2 and FMA and without AVX-512";
  for (const auto& shape : std::vector<std::vector<int64_t>>{{2, 16, 6, 37}, {1, 16, 3, 260}}) {
    torch::manual_seed(8);
    const torch::Tensor x = torch::randn(shape), w = torch::randn({32, 16, 3, 3}),
                        b = torch::randn({32});
    ASSERT_TRUE(conv3x3_training_applies(x, w));
    const auto [y, y_ref] = run_both_and_compare_gradients(x, w, b);
    EXPECT_TRUE(y.is_contiguous());
    expect_close(y, y_ref, "forward");
    EXPECT_FALSE(torch::equal(y, y_ref)) << "expected Winograd's rounding, not oneDNN's bits";
  }
}

// Rows go to fixed blocks added in order: one thread and two give the same bits.
TEST(Conv3x3, WeightGradientIsTheSameForAnyThreadCount) {
  if (!cpu_suits()) GTEST_SKIP() << "needs a CPU with AVX2 and FMA and without AVX-512";
  torch::manual_seed(2);
  const torch::Tensor x = torch::randn({4, 6, 12, 45}), g = torch::randn({4, 10, 12, 45});
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  const auto one = conv3x3_weight_gradient(x, g);
  at::set_num_threads(2);
  const auto two = conv3x3_weight_gradient(x, g);
  at::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(one.first, two.first));
  EXPECT_TRUE(torch::equal(one.second, two.second));
}

TEST(Conv3x3, NoBiasAndNoInputGradientWhenNotNeeded) {
  if (!cpu_suits()) GTEST_SKIP() << "needs a CPU with AVX2 and FMA and without AVX-512";
  const torch::Tensor x = torch::randn({2, 3, 8, 20});
  torch::Tensor w = torch::randn({4, 3, 3, 3}).requires_grad_(true);
  conv3x3_training(x, w, torch::Tensor()).square().sum().backward();
  EXPECT_TRUE(w.grad().defined());
  EXPECT_FALSE(x.grad().defined());
}

TEST(Conv3x3, DoesNotApplyToOtherShapesOrTypes) {
  EXPECT_FALSE(conv3x3_training_applies(torch::zeros({1, 2, 8, 255}), torch::zeros({4, 2, 3, 3})));
  EXPECT_FALSE(conv3x3_training_applies(torch::zeros({1, 1, 8, 256}), torch::zeros({4, 1, 3, 3})));
  EXPECT_FALSE(conv3x3_training_applies(torch::zeros({1, 2, 8, 256}), torch::zeros({4, 2, 5, 5})));
  EXPECT_FALSE(conv3x3_training_applies(torch::zeros({1, 2, 8, 256}, torch::kDouble),
                                        torch::zeros({4, 2, 3, 3}, torch::kDouble)));
  EXPECT_FALSE(conv3x3_training_applies(
      torch::zeros({1, 2, 8, 256}).contiguous(torch::MemoryFormat::ChannelsLast),
      torch::zeros({4, 2, 3, 3})));
}

}  // namespace
}  // namespace genre
