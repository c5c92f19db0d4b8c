#include <gtest/gtest.h>

#include "model/first_conv.h"

namespace genre {
namespace {

// Every gradient against LibTorch's own conv2d backward, on sizes that leave a remainder after
// the 8-lane blocks and with the zero padding at every edge in play.
TEST(FirstConv3x3, MatchesLibTorchsConvAndItsGradients) {
  for (const auto& shape : {std::vector<int64_t>{3, 1, 7, 13}, std::vector<int64_t>{2, 1, 96, 40},
                            std::vector<int64_t>{1, 1, 9, 301}}) {
    torch::manual_seed(3);
    const torch::Tensor x = torch::randn(shape), w = torch::randn({5, 1, 3, 3}),
                        b = torch::randn({5});
    std::vector<torch::Tensor> ours = {x.clone().requires_grad_(true),
                                       w.clone().requires_grad_(true),
                                       b.clone().requires_grad_(true)};
    std::vector<torch::Tensor> ref = {x.clone().requires_grad_(true),
                                      w.clone().requires_grad_(true),
                                      b.clone().requires_grad_(true)};
    ASSERT_TRUE(first_conv3x3_applies(ours[0], ours[1]));
    const torch::Tensor y = first_conv3x3(ours[0], ours[1], ours[2]);
    const torch::Tensor y_ref = torch::conv2d(ref[0], ref[1], ref[2], 1, 1);
    EXPECT_TRUE(torch::allclose(y, y_ref, 1e-5, 1e-5)) << (y - y_ref).abs().max().item<float>();
    const torch::Tensor upstream = torch::randn_like(y);
    (y * upstream).sum().backward();
    (y_ref * upstream).sum().backward();
    for (int k = 0; k < 3; ++k)
      EXPECT_TRUE(torch::allclose(ours[k].grad(), ref[k].grad(), 1e-4, 1e-4))
          << "gradient " << k << " max difference "
          << (ours[k].grad() - ref[k].grad()).abs().max().item<float>();
  }
}

TEST(FirstConv3x3, SkipsTheInputGradientWhenNotNeededAndRepeatsExactly) {
  const torch::Tensor x = torch::randn({4, 1, 20, 30});
  torch::Tensor w1 = torch::randn({6, 1, 3, 3}).requires_grad_(true);
  torch::Tensor w2 = w1.detach().clone().requires_grad_(true);
  const torch::Tensor b = torch::zeros({6});
  first_conv3x3(x, w1, b).square().sum().backward();
  first_conv3x3(x, w2, b).square().sum().backward();
  EXPECT_TRUE(torch::equal(w1.grad(), w2.grad()));  // fixed blocks: the same sums every time
  EXPECT_FALSE(x.grad().defined());
}

TEST(FirstConv3x3, DoesNotApplyToOtherShapesOrTypes) {
  EXPECT_FALSE(first_conv3x3_applies(torch::zeros({1, 2, 8, 8}), torch::zeros({4, 2, 3, 3})));
  EXPECT_FALSE(first_conv3x3_applies(torch::zeros({1, 1, 8, 8}), torch::zeros({4, 1, 5, 5})));
  EXPECT_FALSE(first_conv3x3_applies(torch::zeros({1, 1, 8, 8}, torch::kDouble),
                                     torch::zeros({4, 1, 3, 3}, torch::kDouble)));
}

}  // namespace
}  // namespace genre
