// Shapes of every block, output modes, and the Keras-1 GRU against its equations.
#include <gtest/gtest.h>

#include "common/error.h"
#include "model/crnn.h"
#include "model/winograd_conv.h"

namespace genre {
namespace {

TEST(ConvBlock, PoolsFreqAndTime) {
  ConvBlock block(1, 8, std::make_pair(2, 3), 1e-5, 0.1);
  block->eval();
  const auto y = block->forward(torch::randn({2, 1, 96, 60}));
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 8, 48, 20}));
}

// Training runs conv -> batch norm -> max-pool -> activation (ELU and ReLU are non-decreasing):
// the same values and input gradients as the paper's order, activation before the pool (to
// rounding: batch norm and pool run fused, with their own sums, batch_norm_pool.h).
TEST(ConvBlock, TrainingPoolsBeforeTheActivationWithTheSameResult) {
  for (const bool relu : {false, true}) {
    torch::manual_seed(1);
    ConvBlock block(2, 8, std::make_pair(2, 4), 1e-5, 0.0, relu);
    block->train();
    const torch::Tensor x = torch::randn({3, 2, 16, 40});
    const torch::Tensor a = x.clone().requires_grad_(true), b = x.clone().requires_grad_(true);
    const torch::Tensor ours = block->forward(a);
    const torch::Tensor normed = block->bn(block->conv(b));
    const torch::Tensor paper = block->pool(relu ? torch::relu(normed) : torch::elu(normed));
    EXPECT_TRUE(torch::allclose(ours, paper, 1e-5, 1e-6)) << (relu ? "relu" : "elu");
    const torch::Tensor weight = torch::randn_like(ours);
    (ours * weight).sum().backward();
    (paper * weight).sum().backward();
    EXPECT_TRUE(torch::allclose(a.grad(), b.grad(), 1e-5, 1e-6)) << (relu ? "relu" : "elu");
  }
}

TEST(Crnn, DefaultArchitectureShapes) {
  ArchConfig c = arch_default_params();
  EXPECT_EQ(c.freq_after_pooling(), 1);
  EXPECT_EQ(c.time_steps(1366), 14);  // 1366 -> 683 -> 341 -> 170 -> 56 -> 14
  Crnn net(c);
  net->eval();
  const auto x = torch::randn({2, 1, 96, 1366});
  EXPECT_EQ(net->embed(x).sizes(), (std::vector<int64_t>{2, 32}));
  const auto p = net->predict_proba(x);
  EXPECT_EQ(p.sizes(), (std::vector<int64_t>{2, 10}));
  EXPECT_NEAR(p.sum(1)[0].item<float>(), 1.0f, 1e-5);
}

TEST(Crnn, MultiLabelUsesSigmoid) {
  ArchConfig c = arch_default_params();
  c.mode = OutputMode::kMultiLabel;
  c.n_classes = 5;
  Crnn net(c);
  net->eval();
  const auto p = net->predict_proba(torch::randn({3, 1, 96, 200}));
  EXPECT_EQ(p.sizes(), (std::vector<int64_t>{3, 5}));
  EXPECT_TRUE((p >= 0).all().item<bool>() && (p <= 1).all().item<bool>());
  EXPECT_GT(std::abs(p.sum(1)[0].item<float>() - 1.0f), 1e-3);
}

// Batch-norm statistics far from the identity, as after training, so folding them matters.
void randomise_batch_norms(Crnn& net) {
  torch::NoGradGuard no_grad;
  for (auto& block : *net->blocks) {
    auto& bn = block->as<ConvBlock>()->bn;
    bn->running_mean.uniform_(-0.5, 0.5);
    bn->running_var.uniform_(0.2, 3.0);
    bn->weight.uniform_(-2.0, 2.0);  // negative scales too: pooling must still come out right
    bn->bias.uniform_(-0.5, 0.5);
  }
}

TEST(Crnn, InferenceFormMatchesThePlainModel) {
  torch::manual_seed(3);
  Crnn net(arch_default_params());
  randomise_batch_norms(net);
  net->eval();
  const auto x = torch::randn({3, 1, 96, 300});
  const auto plain = net->forward(x);
  prepare_for_inference(net);
  ASSERT_TRUE(net->blocks[0]->as<ConvBlock>()->folded_weight.defined());
  const auto fast = net->forward(x.contiguous(torch::MemoryFormat::ChannelsLast));
  EXPECT_LT((fast - plain).abs().max().item<float>(), 1e-4);
  EXPECT_GT(plain.abs().max().item<float>(), 1e-2);  // not a trivially small output
}

// Long inputs run the inference form's conv + pool in slices of frames (less memory): the same
// values as the whole conv, the tail a pool drops dropped, the layout kept channels-last.
TEST(Crnn, SlicedInferenceFormMatchesTheWholeConv) {
  torch::manual_seed(5);
  torch::InferenceMode guard;
  for (const auto& [in, pool] : {std::pair<int, int>{1, 2}, {8, 3}}) {
    // About a 29 s excerpt at 16 kHz (1,813 frames); for each pool one length leaves a tail the
    // pool drops and one does not (the last slice then reads the zero padding).
    for (const auto& [frames, channels_last] :
         {std::pair<int64_t, bool>{1814, true}, {1814, false}, {1815, true}, {1815, false}}) {
      ConvBlock block(in, 16, std::make_pair(pool, pool), 1e-3, 0.0);
      block->eval();
      block->fold_batch_norm(channels_last);
      torch::Tensor x = torch::randn({2, in, 12, frames});
      if (channels_last) x = x.contiguous(torch::MemoryFormat::ChannelsLast);
      const torch::Tensor sliced = block->forward(x);
      const torch::Tensor whole =
          torch::elu(block->pool(torch::conv2d(x, block->folded_weight, block->folded_bias, 1, 1)));
      ASSERT_EQ(sliced.sizes(), whole.sizes());
      // Channels-last blocks of 8+ channels run Winograd's conv (winograd_conv.h), which rounds
      // differently from LibTorch's by a few 1e-6 of the largest output; a misplaced frame
      // would be off by the outputs' own size.
      const bool winograd = block->winograd_weight.defined();
      const float bound = winograd ? 2e-5f * whole.abs().max().item<float>() : 1e-6f;
      EXPECT_LE((sliced - whole).abs().max().item<float>(), bound)
          << in << " " << frames << " " << channels_last;
      EXPECT_EQ(winograd, channels_last && in > 1 && winograd_weight_applies(block->folded_weight));
      if (channels_last && in > 1) {
        EXPECT_TRUE(sliced.is_contiguous(torch::MemoryFormat::ChannelsLast));
      }
    }
  }
}

TEST(Crnn, TrainingModeDropsTheInferenceForm) {
  torch::manual_seed(4);
  Crnn net(arch_default_params());
  randomise_batch_norms(net);
  prepare_for_inference(net);
  net->train();
  EXPECT_FALSE(net->blocks[0]->as<ConvBlock>()->folded_weight.defined());
  {
    torch::NoGradGuard no_grad;  // weights change after folding: the old fold must not be used
    net->blocks[0]->as<ConvBlock>()->conv->weight.mul_(2.0);
  }
  net->eval();
  const auto x = torch::randn({2, 1, 96, 200});
  const auto plain = net->forward(x);
  prepare_for_inference(net);
  EXPECT_LT((net->forward(x) - plain).abs().max().item<float>(), 1e-4);
}

TEST(Crnn, InvalidConfigsAreRejected) {
  ArchConfig c = arch_default_params();
  c.pools = {{2, 2}, {2, 2}, {2, 2}, {3, 3}, {2, 4}};  // 96 -> 2, not 1
  EXPECT_THROW(c.validate(), Error);
  c = arch_default_params();
  c.channels.pop_back();
  EXPECT_THROW(c.validate(), Error);
  c = arch_default_params();
  c.input_frames = 50;  // fewer frames than the time pooling needs
  EXPECT_THROW(c.validate(), Error);
}

TEST(Crnn, TimeInputNormAndPadding) {
  ArchConfig c = arch_default_params();
  c.channels = {8, 8, 8, 8};
  c.pools = {{2, 2}, {3, 3}, {4, 4}, {4, 4}};
  c.input_norm = "time";
  c.pad_time_to = 1440;
  c.gru_type = "keras1";
  Crnn net(c);
  net->eval();
  EXPECT_EQ(c.time_steps(1366), 15);
  EXPECT_EQ(net->forward(torch::randn({1, 1, 96, 1366})).sizes(), (std::vector<int64_t>{1, 10}));
}

TEST(Keras1Gru, MatchesItsEquations) {
  torch::manual_seed(3);
  const int in = 5, H = 4, T = 6, B = 3;
  Keras1Gru gru(in, H);
  {
    torch::NoGradGuard g;
    gru->b.uniform_(-0.5, 0.5);
  }
  const auto x = torch::randn({B, T, in}).to(torch::kDouble);
  gru->to(torch::kDouble);
  const auto out = gru->forward(x);
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{B, T, H}));
  // Direct scalar evaluation of the Keras 1 equations.
  auto W = gru->W.accessor<double, 2>();
  auto U = gru->U.accessor<double, 2>();
  auto b = gru->b.accessor<double, 1>();
  auto X = x.accessor<double, 3>();
  auto hs = [](double a) { return std::min(1.0, std::max(0.0, 0.2 * a + 0.5)); };
  for (int n = 0; n < B; ++n) {
    std::vector<double> h(H, 0.0);
    for (int t = 0; t < T; ++t) {
      std::vector<double> z(H), r(H), hh(H), next(H);
      for (int j = 0; j < H; ++j) {
        double az = b[j], ar = b[H + j];
        for (int i = 0; i < in; ++i) az += X[n][t][i] * W[i][j], ar += X[n][t][i] * W[i][H + j];
        for (int k = 0; k < H; ++k) az += h[k] * U[k][j], ar += h[k] * U[k][H + j];
        z[j] = hs(az), r[j] = hs(ar);
      }
      for (int j = 0; j < H; ++j) {
        double ah = b[2 * H + j];
        for (int i = 0; i < in; ++i) ah += X[n][t][i] * W[i][2 * H + j];
        for (int k = 0; k < H; ++k) ah += r[k] * h[k] * U[k][2 * H + j];
        hh[j] = std::tanh(ah);
        next[j] = z[j] * h[j] + (1 - z[j]) * hh[j];
      }
      h = next;
      for (int j = 0; j < H; ++j) EXPECT_NEAR(out[n][t][j].item<double>(), h[j], 1e-12);
    }
  }
}

TEST(Keras1Gru, IsTrainable) {
  Keras1Gru gru(3, 2);
  const auto loss = gru->forward(torch::randn({2, 4, 3})).pow(2).sum();
  loss.backward();
  EXPECT_TRUE(gru->W.grad().defined());
  EXPECT_GT(gru->U.grad().abs().sum().item<float>(), 0.0f);
}

}  // namespace
}  // namespace genre
