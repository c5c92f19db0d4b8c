#include <gtest/gtest.h>

#include "model/dropout.h"
#include "model/elu_dropout.h"

namespace genre {
namespace {

// The fused op keeps the same elements as ELU then hashed_dropout from the same generator state,
// with the same values, and its gradient (from the output, not exp(x)) matches autograd's
// through the two.
TEST(EluDropout, MatchesEluThenHashedDropout) {
  torch::manual_seed(1);
  const torch::Tensor x = torch::randn({3, 4, 17, 29}) * 2;
  torch::Tensor ours_x = x.clone().requires_grad_(true), ref_x = x.clone().requires_grad_(true);
  torch::manual_seed(5);
  const torch::Tensor ours = elu_dropout(ours_x, 0.3);
  torch::manual_seed(5);
  const torch::Tensor ref = hashed_dropout(torch::elu(ref_x), 0.3, true);
  EXPECT_TRUE(torch::equal(ours, ref));
  const double kept = ours.ne(0).to(torch::kDouble).mean().item<double>();
  EXPECT_NEAR(kept, 0.7, 0.03);
  const torch::Tensor upstream = torch::randn_like(ours);
  (ours * upstream).sum().backward();
  (ref * upstream).sum().backward();
  EXPECT_TRUE(torch::allclose(ours_x.grad(), ref_x.grad(), 1e-5, 1e-6))
      << (ours_x.grad() - ref_x.grad()).abs().max().item<float>();
  EXPECT_TRUE(torch::equal(ours_x.grad().eq(0), ours.eq(0)));  // dropped: no gradient
}

TEST(EluDropout, AppliesToContiguousFloatCpuTensorsOnly) {
  EXPECT_TRUE(elu_dropout_applies(torch::zeros({2, 3, 4, 5})));
  EXPECT_FALSE(elu_dropout_applies(torch::zeros({2, 3, 4, 5}, torch::kDouble)));
  EXPECT_FALSE(elu_dropout_applies(torch::zeros({4, 5}).t()));
  EXPECT_THROW(elu_dropout(torch::zeros({4}), 1.0), c10::Error);
}

}  // namespace
}  // namespace genre
