// Transfer models: frozen backbones' layer features -> standardisation -> dense layer, in one
// model file that saves, loads, exports and runs in its inference form with the same outputs.
#include <gtest/gtest.h>
#include <torch/csrc/jit/serialization/pickle.h>

#include <fstream>

#include "common/error.h"
#include "model/inference.h"
#include "model/transfer_model.h"
#include "support/test_support.h"

namespace genre {
namespace {

// A tiny multi-label tagger of the sota family (ReLU blocks, global input norm).
Model tiny_tagger(int seed, int n_tags) {
  torch::manual_seed(seed);
  ModelInfo info;
  info.arch.channels = {4, 8};
  info.arch.pools = {{4, 2}, {24, 2}};
  info.arch.activation = "relu";
  info.arch.input_norm = "global";
  info.arch.gru_hidden = 4;
  info.arch.n_classes = n_tags;
  info.arch.mode = OutputMode::kMultiLabel;
  for (int i = 0; i < n_tags; ++i) info.classes.push_back("tag" + std::to_string(i));
  info.provenance = {{"licence", "MIT"}, {"name", "tiny" + std::to_string(seed)}};
  Model m = make_model(info);
  // Non-trivial batch-norm statistics, so folding them is exercised.
  torch::NoGradGuard no_grad;
  for (auto& b : m.net->named_buffers())
    if (b.key().find("running_var") != std::string::npos)
      b.value().uniform_(0.5, 2.0);
    else if (b.key().find("running_mean") != std::string::npos)
      b.value().uniform_(-0.5, 0.5);
  m.net->eval();
  return m;
}

TEST(TransferModel, LayerFeaturesOfEachBackboneFeedTheHead) {
  std::vector<Model> backbones = {tiny_tagger(1, 5), tiny_tagger(2, 3)};
  torch::manual_seed(3);
  Model m = make_transfer_model(backbones, {"a", "b", "c"}, transfer_default_params());
  EXPECT_TRUE(m.info.arch.is_transfer());
  EXPECT_EQ(m.info.arch.layer_feature_size(), (4 + 8 + 4 + 5) + (4 + 8 + 4 + 3));
  EXPECT_EQ(m.info.provenance["backbones"].size(), 2u);
  const torch::Tensor x = torch::randn({2, 1, 96, 64});
  const torch::Tensor e = m.net->embed(x);
  ASSERT_EQ(e.sizes(), (std::vector<int64_t>{2, 40}));
  // The first backbone's part is its own layer features: the tag probabilities at the end.
  const torch::Tensor tags = backbones[0].net->predict_proba(x);
  EXPECT_TRUE(torch::allclose(e.narrow(1, 16, 5), tags, 1e-6, 1e-6));
  EXPECT_EQ(m.net->forward(x).sizes(), (std::vector<int64_t>{2, 3}));
  // Standardisation fitted on features gives them zero mean and unit variance.
  const torch::Tensor f = torch::randn({10, 40}) * 3 + 1;
  m.net->fit_standardization(f);
  const torch::Tensor z = (f - m.net->feature_mean) / m.net->feature_scale;
  EXPECT_LT(z.mean(0).abs().max().item<double>(), 1e-5);
  EXPECT_NEAR(z.std(0, false).mean().item<double>(), 1.0, 1e-4);
  // Training the head never switches the frozen backbones to training mode.
  m.net->train();
  for (auto& b : *m.net->backbones) EXPECT_FALSE(b->is_training());
  for (const auto& p : m.net->named_parameters())
    EXPECT_EQ(p.value().requires_grad(), p.key().rfind("backbones.", 0) != 0) << p.key();
}

TEST(TransferModel, SavesLoadsExportsAndRunsFastWithTheSameOutputs) {
  test::TempDir dir;
  torch::manual_seed(4);
  Model m = make_transfer_model({tiny_tagger(1, 5), tiny_tagger(2, 3)}, {"a", "b", "c"},
                                transfer_default_params());
  m.net->fit_standardization(torch::randn({6, 40}) * 2);
  m.net->eval();
  Spectrogram s;
  s.n_mels = 96, s.n_frames = 200;
  s.data.resize(96 * 200);
  for (std::size_t i = 0; i < s.data.size(); ++i) s.data[i] = std::sin(0.37 * i) * 10 - 40;
  const torch::Tensor before = track_probabilities(m, {&s}, {200}, 4, torch::kCPU);
  save_model(dir.file("t.pt"), m);
  Model loaded = load_model(dir.file("t.pt"));
  EXPECT_TRUE(loaded.info.arch.is_transfer());
  EXPECT_EQ(loaded.info.arch.backbones.size(), 2u);
  EXPECT_TRUE(torch::equal(track_probabilities(loaded, {&s}, {200}, 4, torch::kCPU), before));
  prepare_for_inference(loaded.net);
  EXPECT_TRUE(
      torch::allclose(track_probabilities(loaded, {&s}, {200}, 4, torch::kCPU), before, 0, 1e-5));
  export_state_dict(m, dir.file("w.pt"));
  std::ifstream in(dir.file("w.pt"), std::ios::binary);
  const std::vector<char> bytes(std::istreambuf_iterator<char>(in), {});
  const auto dict = torch::pickle_load(bytes).toGenericDict();
  EXPECT_TRUE(dict.contains("backbones.1.blocks.0.conv.weight"));
  EXPECT_TRUE(dict.contains("feature_scale"));
  EXPECT_TRUE(dict.contains("output.weight"));
}

TEST(TransferModel, WindowsAreAveragedOverTheTrack) {
  TransferParams p = transfer_default_params();
  p.input_frames = 64;
  torch::manual_seed(5);
  Model m = make_transfer_model({tiny_tagger(1, 5)}, {"a", "b"}, p);
  Spectrogram s;
  s.n_mels = 96, s.n_frames = 256;
  s.data.resize(96 * 256);
  for (std::size_t i = 0; i < s.data.size(); ++i) s.data[i] = std::cos(0.11 * i) * 5;
  const torch::Tensor track = track_probabilities(m, {&s}, {256}, 8, torch::kCPU)[0];
  const auto offsets = crop_offsets(256, 256, 64);
  ASSERT_EQ(offsets.size(), 7u);
  torch::Tensor sum = torch::zeros({2});
  for (int o : offsets) {
    torch::Tensor crop = torch::empty({1, 1, 96, 64});
    copy_crop(s, o, 64, crop.data_ptr<float>());
    torch::NoGradGuard no_grad;
    sum += m.net->predict_proba(crop)[0];
  }
  EXPECT_TRUE(torch::allclose(track, sum / 7.0, 1e-5, 1e-6));
}

TEST(TransferModel, AHiddenLayerHeadIsAReluMlpThatSavesAndLoads) {
  test::TempDir dir;
  TransferParams p = transfer_default_params();
  p.head_hidden = 6;
  torch::manual_seed(6);
  Model m = make_transfer_model({tiny_tagger(1, 5)}, {"a", "b", "c"}, p);
  ASSERT_TRUE(m.net->hidden);
  EXPECT_EQ(m.net->hidden->weight.sizes(), (std::vector<int64_t>{6, 21}));
  EXPECT_EQ(m.net->output->weight.sizes(), (std::vector<int64_t>{3, 6}));
  EXPECT_TRUE(is_head_parameter("hidden.weight"));
  EXPECT_TRUE(is_head_parameter("output.bias"));
  EXPECT_FALSE(is_head_parameter("backbones.0.output.weight"));
  m.net->fit_standardization(torch::randn({6, 21}) * 2);
  m.net->eval();
  const torch::Tensor x = torch::randn({2, 1, 96, 64});
  torch::NoGradGuard no_grad;
  const torch::Tensor z = (m.net->embed(x) - m.net->feature_mean) / m.net->feature_scale;
  const torch::Tensor expected = m.net->output(torch::relu(m.net->hidden(z)));
  EXPECT_TRUE(torch::allclose(m.net->forward(x), expected, 1e-6, 1e-6));
  save_model(dir.file("h.pt"), m);
  Model loaded = load_model(dir.file("h.pt"));
  EXPECT_EQ(loaded.info.arch.head_hidden, 6);
  EXPECT_TRUE(torch::equal(loaded.net->forward(x), m.net->forward(x)));
  // Only transfer models have a head of their own to widen.
  ArchConfig plain = arch_default_params();
  plain.head_hidden = 4;
  EXPECT_EQ(test::error_kind_of([&] { plain.validate(); }),
            static_cast<int>(ErrorKind::kInvalidArgument));
}

TEST(TransferModel, BackbonesMustShareOneFrontEnd) {
  Model a = tiny_tagger(1, 5), b = tiny_tagger(2, 3);
  b.info.features.sample_rate = 16000;
  EXPECT_EQ(test::error_kind_of([&] {
              make_transfer_model({a, b}, {"x"}, {});
            }),
            static_cast<int>(ErrorKind::kInvalidArgument));
  EXPECT_EQ(test::error_kind_of([&] { make_transfer_model({}, {"x"}, {}); }),
            static_cast<int>(ErrorKind::kInvalidArgument));
}

}  // namespace
}  // namespace genre
