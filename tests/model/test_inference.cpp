// Crop policy: where the crops of an excerpt fall, and the shared-conv path against the
// independent one.
#include <gtest/gtest.h>

#include "common/error.h"
#include "model/inference.h"
#include "model/precision.h"

namespace genre {
namespace {

TEST(CropOffsets, HalfOverlapWithTheLastFlushToTheSignal) {
  EXPECT_EQ(crop_offsets(1366, 1366, 0), (std::vector<int>{0}));
  EXPECT_EQ(crop_offsets(480, 480, 96),
            (std::vector<int>{0, 48, 96, 144, 192, 240, 288, 336, 384}));
  EXPECT_EQ(crop_offsets(300, 300, 96), (std::vector<int>{0, 48, 96, 144, 192, 204}));
  // Only the first 150 frames hold signal: crops stay inside them.
  EXPECT_EQ(crop_offsets(1366, 150, 96), (std::vector<int>{0, 48, 54}));
  EXPECT_EQ(crop_offsets(1366, 10, 96), (std::vector<int>{0}));
  EXPECT_EQ(crop_offsets(300, 300, 96, 96), (std::vector<int>{0, 96, 192, 204}));
}

ModelInfo small_crop_model() {
  ModelInfo info;
  info.arch.channels = {4, 4, 8, 8, 8};
  info.arch.pools = {{2, 2}, {2, 2}, {2, 2}, {3, 1}, {4, 1}};
  info.arch.gru_hidden = 8;
  info.arch.input_frames = 96;
  info.classes = {"a", "b", "c"};
  info.arch.n_classes = 3;
  return info;
}

Spectrogram random_spectrogram(int frames, float spread = 10, float level = -40) {
  Spectrogram s;
  s.n_mels = 96;
  s.n_frames = frames;
  const torch::Tensor values = torch::randn({96 * frames}) * spread + level;
  s.data.assign(values.data_ptr<float>(), values.data_ptr<float>() + values.numel());
  return s;
}

TEST(SharedConv, AppliesOnlyWhereSlicesLineUp) {
  ArchConfig arch = small_crop_model().arch;
  EXPECT_TRUE(shares_conv(arch));
  arch.input_frames = 100;  // not a multiple of the 8x time pooling
  EXPECT_FALSE(shares_conv(arch));
  arch.input_frames = 0;  // whole excerpt: nothing to share
  EXPECT_FALSE(shares_conv(arch));
  arch = small_crop_model().arch;
  arch.input_norm = "time";
  EXPECT_FALSE(shares_conv(arch));
}

// With 1x1 kernels (only the centre tap) the conv padding at crop borders cannot matter, so
// both policies must compute the same numbers.
TEST(SharedConv, EqualsIndependentCropsWhenBordersCannotMatter) {
  torch::manual_seed(3);
  Model model = make_model(small_crop_model());
  {
    torch::NoGradGuard no_grad;
    for (auto& p : model.net->named_parameters())
      if (p.value().dim() == 4) {
        const auto centre = p.value().index({"...", 1, 1}).clone();
        p.value().zero_();
        p.value().index_put_({"...", 1, 1}, centre);
      }
  }
  const Spectrogram a = random_spectrogram(480), b = random_spectrogram(480, 1, 5);
  const std::vector<const Spectrogram*> tracks = {&a, &b};
  const auto independent =
      track_probabilities(model, tracks, {480, 480}, 4, torch::kCPU, CropPolicy::kIndependent);
  const auto shared =
      track_probabilities(model, tracks, {480, 480}, 4, torch::kCPU, CropPolicy::kSharedConv);
  ASSERT_EQ(shared.sizes(), independent.sizes());
  EXPECT_LT((shared - independent).abs().max().item<float>(), 1e-5);
  EXPECT_GT((shared[0] - shared[1]).abs().max().item<float>(), 1e-4);  // inputs differ
}

TEST(SharedConv, UnalignedLastCropAndPartlySilentTracks) {
  torch::manual_seed(4);
  Model model = make_model(small_crop_model());
  model.net->eval();
  const Spectrogram a = random_spectrogram(1366), b = random_spectrogram(1366);
  const std::vector<const Spectrogram*> tracks = {&a, &b};
  const auto shared = track_probabilities(model, tracks, {1366, 500}, 3, torch::kCPU);
  const auto independent =
      track_probabilities(model, tracks, {1366, 500}, 3, torch::kCPU, CropPolicy::kIndependent);
  ASSERT_EQ(shared.sizes(), (std::vector<int64_t>{2, 3}));
  EXPECT_LT((shared.sum(1) - 1).abs().max().item<float>(), 1e-5);
  // Only border padding differs: an untrained model's averages stay close.
  EXPECT_LT((shared - independent).abs().max().item<float>(), 0.05);
}

// bf16 autocast: both crop policies and the transfer features run, in bfloat16 convolutions, to
// probabilities close to fp32's (and not bit-identical: autocast was really on).
TEST(Precision, Bf16AutocastStaysCloseToFp32) {
  torch::manual_seed(6);
  Model model = make_model(small_crop_model());
  prepare_for_inference(model.net);
  const Spectrogram a = random_spectrogram(1366), b = random_spectrogram(1366);
  const std::vector<const Spectrogram*> tracks = {&a, &b};
  for (const CropPolicy policy : {CropPolicy::kSharedConv, CropPolicy::kIndependent}) {
    model.precision = Precision::kFp32;
    const auto fp32 = track_probabilities(model, tracks, {1366, 900}, 4, torch::kCPU, policy);
    model.precision = Precision::kBf16;
    const auto bf16 = track_probabilities(model, tracks, {1366, 900}, 4, torch::kCPU, policy);
    EXPECT_EQ(bf16.scalar_type(), torch::kFloat32);
    const float diff = (fp32 - bf16).abs().max().item<float>();
    EXPECT_LT(diff, 0.02);
    EXPECT_GT(diff, 0.0f);
  }
  EXPECT_THROW(AutocastGuard(Precision::kFp16, torch::kCPU), Error);
  EXPECT_EQ(parse_precision("bf16"), Precision::kBf16);
  EXPECT_THROW(parse_precision("int8"), Error);
}

}  // namespace
}  // namespace genre
