#include "model/gru_inference.h"

#include <gtest/gtest.h>

#include "model/crnn.h"

namespace genre {
namespace {

torch::nn::GRU random_gru(int input, int hidden, int layers) {
  torch::nn::GRU gru(torch::nn::GRUOptions(input, hidden).num_layers(layers).batch_first(true));
  torch::NoGradGuard no_grad;
  for (auto& p : gru->parameters()) p.uniform_(-0.5, 0.5);  // biases too, unlike the init
  gru->eval();
  return gru;
}

TEST(GruInference, MatchesTorchGruOnWholeSequences) {
  torch::manual_seed(11);
  auto gru = random_gru(20, 8, 2);
  const torch::Tensor x = torch::randn({4, 9, 20});
  const torch::Tensor expected = std::get<0>(gru->forward(x)).select(1, 8);
  const GruInference fast(gru);
  const torch::Tensor got = fast.last_states(x, {{0, 0}, {1, 0}, {2, 0}, {3, 0}}, 9);
  ASSERT_EQ(got.sizes(), expected.sizes());
  EXPECT_LT((got - expected).abs().max().item<float>(), 1e-5);
  EXPECT_GT(expected.abs().max().item<float>(), 0.1);  // states far from zero
}

TEST(GruInference, WindowsEqualTheGruOverTheirSlice) {
  torch::manual_seed(12);
  auto gru = random_gru(16, 6, 3);
  const torch::Tensor x = torch::randn({2, 30, 16});
  const GruInference fast(gru);
  const std::vector<std::pair<int, int>> windows = {{0, 0}, {0, 7}, {1, 18}, {1, 3}};
  const torch::Tensor got = fast.last_states(x, windows, 12);
  ASSERT_EQ(got.size(0), 4);
  for (std::size_t w = 0; w < windows.size(); ++w) {
    const auto [n, t0] = windows[w];
    const torch::Tensor slice = x[n].narrow(0, t0, 12).unsqueeze(0);
    const torch::Tensor expected = std::get<0>(gru->forward(slice)).select(1, 11)[0];
    EXPECT_LT((got[w] - expected).abs().max().item<float>(), 1e-5) << "window " << w;
  }
}

TEST(GruInference, RejectsWindowsOutsideTheSequence) {
  auto gru = random_gru(4, 3, 1);
  const GruInference fast(gru);
  EXPECT_ANY_THROW(fast.last_states(torch::randn({1, 10, 4}), {{0, 5}}, 6));
  EXPECT_ANY_THROW(fast.last_states(torch::randn({1, 10, 4}), {{1, 0}}, 4));
  EXPECT_ANY_THROW(fast.last_states(torch::randn({1, 10, 5}), {{0, 0}}, 4));
}

TEST(GruInference, PreparedCrnnUsesItAndTrainingDropsIt) {
  torch::manual_seed(13);
  Crnn net(arch_default_params());
  net->eval();
  const torch::Tensor sequence = torch::randn({2, 20, net->config.channels.back()});
  torch::Tensor expected;
  {
    torch::NoGradGuard no_grad;
    expected = net->recurrent_windows(sequence, {{0, 2}, {1, 8}}, 12);
  }
  prepare_for_inference(net);
  ASSERT_TRUE(net->fast_gru);
  const torch::Tensor got = net->recurrent_windows(sequence, {{0, 2}, {1, 8}}, 12);
  EXPECT_LT((got - expected).abs().max().item<float>(), 1e-5);
  net->train();
  EXPECT_FALSE(net->fast_gru);
}

}  // namespace
}  // namespace genre
