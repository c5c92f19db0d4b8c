#include <gtest/gtest.h>

#include "model/layout_copy.h"

namespace genre {
namespace {

// Both directions against LibTorch's contiguous(): channel counts of one and several 8-blocks,
// pixel counts that leave partial 8- and 64-blocks, a batch.
TEST(LayoutCopy, MatchesLibTorchsCopies) {
  for (const auto& shape : std::vector<std::vector<int64_t>>{
           {1, 8, 1, 1}, {2, 8, 3, 5}, {3, 16, 7, 29}, {2, 64, 9, 75}, {1, 24, 1, 130}}) {
    torch::manual_seed(17);
    const torch::Tensor x = torch::randn(shape);
    const torch::Tensor last = channels_last_copy(x);
    EXPECT_TRUE(last.is_contiguous(torch::MemoryFormat::ChannelsLast)) << x.sizes();
    EXPECT_TRUE(torch::equal(last, x)) << x.sizes();
    const torch::Tensor first = channels_first_copy(last);
    EXPECT_TRUE(first.is_contiguous()) << x.sizes();
    EXPECT_TRUE(torch::equal(first, x)) << x.sizes();
  }
}

// What the AVX2 copies do not take goes through LibTorch's, with the same result.
TEST(LayoutCopy, FallsBackForOtherTensors) {
  const torch::Tensor odd = torch::randn({2, 5, 4, 6});  // channels not a multiple of 8
  EXPECT_FALSE(layout_copy_applies(odd));
  EXPECT_TRUE(torch::equal(channels_first_copy(channels_last_copy(odd)), odd));
  const torch::Tensor dbl = torch::randn({1, 8, 3, 3}, torch::kDouble);
  EXPECT_FALSE(layout_copy_applies(dbl));
  EXPECT_TRUE(torch::equal(channels_last_copy(dbl), dbl));
  const torch::Tensor nchw = torch::randn({1, 8, 3, 3});  // not channels-last: plain contiguous()
  EXPECT_TRUE(torch::equal(channels_first_copy(nchw.transpose(2, 3)), nchw.transpose(2, 3)));
}

}  // namespace
}  // namespace genre
