// Training on a synthetic dataset the test makes: fitting, determinism, checkpoints and resume.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "common/error.h"
#include "data/feature_cache.h"
#include "model/inference.h"
#include "support/test_support.h"
#include "train/prepare.h"
#include "train/trainer.h"

namespace genre {
namespace {

struct Synthetic {
  test::TempDir dir;
  PreparedData data;
  Synthetic(int per_class, double seconds) {
    test::make_synthetic_dataset(dir.file("data"), per_class, seconds);
    data = prepare_data(dir.file("data"), {}, feature_default_params(), FeatureCache(""), 2, true);
  }
};

ModelInfo info_for(const PreparedData& d, ArchConfig arch) {
  ModelInfo info;
  info.arch = arch;
  info.arch.n_classes = static_cast<int>(d.dataset.classes.size());
  info.classes = d.dataset.classes;
  return info;
}

TrainParams quiet_params(int epochs) {
  TrainParams p = train_default_params();
  p.epochs = epochs;
  p.batch_size = 8;
  p.threads = 2;
  p.device = "cpu";
  p.quiet = true;
  return p;
}

TEST(Trainer, DefaultModelFitsSyntheticData) {
  Synthetic s(4, 4.5);
  ASSERT_EQ(s.data.dataset.classes.size(), 4u);
  ArchConfig arch = arch_default_params();
  arch.input_frames = 192;  // ~4.1 s crops: two GRU steps after the default pooling
  torch::manual_seed(1);
  Model model = make_model(info_for(s.data, arch));
  const auto train_set = s.data.select(s.data.all_indices());
  const TrainResult r = train(model, train_set, {}, quiet_params(12));
  const EvalScores scores = evaluate_examples(model, train_set, 16, torch::kCPU);
  EXPECT_GE(scores.score, 0.95) << "training accuracy after " << r.history.size() << " epochs";
  EXPECT_EQ(r.history.size(), 12u);
}

ArchConfig tiny_arch() {
  ArchConfig a = arch_default_params();
  a.channels = {4, 4, 8, 8, 8};
  a.pools = {{2, 2}, {2, 2}, {2, 2}, {3, 1}, {4, 1}};
  a.input_frames = 64;
  return a;
}

TEST(Trainer, DeterministicForASeed) {
  Synthetic s(2, 2.0);
  const auto set = s.data.select(s.data.all_indices());
  auto run = [&] {
    torch::manual_seed(5);
    Model m = make_model(info_for(s.data, tiny_arch()));
    TrainParams p = quiet_params(2);
    p.random_crop = true;
    p.mixup_alpha = 0.4;
    p.freq_masks = 1;
    p.gain_db = 3;
    train(m, set, {}, p);
    return m.net->output->weight.clone();
  };
  EXPECT_TRUE(torch::equal(run(), run()));
}

TEST(Trainer, CosineScheduleDecaysTheLearningRateTowardsZero) {
  Synthetic s(2, 2.0);
  const auto set = s.data.select(s.data.all_indices());
  TrainParams p = quiet_params(4);
  p.lr = 0.002;
  p.lr_schedule = "cosine";
  torch::manual_seed(3);
  Model m = make_model(info_for(s.data, tiny_arch()));
  const TrainResult r = train(m, set, {}, p);
  ASSERT_EQ(r.history.size(), 4u);
  const double expected[] = {0.002, 0.001 * (1 + std::cos(M_PI / 4)), 0.001,
                             0.001 * (1 + std::cos(3 * M_PI / 4))};
  for (int e = 0; e < 4; ++e) EXPECT_NEAR(r.history[e].lr, expected[e], 1e-12) << "epoch " << e + 1;

  p.lr_schedule = "step";
  EXPECT_THROW(train(m, set, {}, p), Error);
}

// With label smoothing e the target keeps 1 - e + e/C on the label, so no model can push the
// (class-balanced, here equal-weight) loss below the target's entropy; without it the same run
// goes lower.
TEST(Trainer, LabelSmoothingKeepsTheLossAboveTheTargetEntropy) {
  Synthetic s(3, 2.0);
  const auto set = s.data.select(s.data.all_indices());
  const int C = static_cast<int>(s.data.dataset.classes.size());
  const double e = 0.3, on = 1 - e + e / C, off = e / C;
  const double entropy = -on * std::log(on) - (C - 1) * off * std::log(off);
  auto final_loss = [&](double smoothing) {
    TrainParams p = quiet_params(30);
    p.lr = 0.01;
    p.label_smoothing = smoothing;
    torch::manual_seed(2);
    Model m = make_model(info_for(s.data, tiny_arch()));
    return train(m, set, {}, p).history.back().train_loss;
  };
  const double smoothed = final_loss(e), plain = final_loss(0);
  EXPECT_GE(smoothed, entropy - 1e-6);
  EXPECT_LT(plain, entropy) << "the unsmoothed run should fit below the smoothed floor";

  TrainParams bad = quiet_params(1);
  bad.label_smoothing = 1.0;
  Model m = make_model(info_for(s.data, tiny_arch()));
  EXPECT_THROW(train(m, set, {}, bad), Error);
}

TEST(Trainer, ResumeFromCheckpointEqualsUninterrupted) {
  Synthetic s(2, 2.0);
  const auto set = s.data.select(s.data.all_indices());
  const auto valid = s.data.select({0, 3, 5});
  TrainParams p = quiet_params(4);
  p.random_crop = true;
  p.lr_patience = 1;
  p.checkpoint = s.dir.file("full.ckpt");

  torch::manual_seed(9);
  Model full = make_model(info_for(s.data, tiny_arch()));
  const TrainResult full_result = train(full, set, valid, p);

  // The same run stopped after epoch 2 (its checkpoint is what a killed run leaves), then
  // resumed to epoch 4 by a fresh model object. The schedule state (LR plateau, best weights)
  // travels in the checkpoint. The CLI test kills a real process with SIGKILL.
  TrainParams first = p;
  first.checkpoint = s.dir.file("part.ckpt");
  first.epochs = 2;
  torch::manual_seed(9);
  Model part = make_model(info_for(s.data, tiny_arch()));
  train(part, set, valid, first);
  ASSERT_TRUE(std::filesystem::exists(first.checkpoint));

  TrainParams second = p;
  second.checkpoint = s.dir.file("part.ckpt");
  torch::manual_seed(123);  // a fresh process: initial weights differ, the checkpoint restores them
  Model resumed = make_model(info_for(s.data, tiny_arch()));
  const TrainResult resumed_result = train(resumed, set, valid, second, first.checkpoint);

  ASSERT_EQ(resumed_result.history.size(), full_result.history.size());
  EXPECT_EQ(resumed_result.best_epoch, full_result.best_epoch);
  for (std::size_t e = 0; e < full_result.history.size(); ++e)
    EXPECT_NEAR(resumed_result.history[e].train_loss, full_result.history[e].train_loss, 1e-5)
        << "epoch " << e + 1;
  const auto x = torch::randn({2, 1, 96, 64});
  EXPECT_TRUE(torch::allclose(full.net->forward(x), resumed.net->forward(x), 1e-5, 1e-5));
}

TEST(ClassWeights, CountTracksOrTheCropsAnEpochDraws) {
  // Class 0: two whole clips (1366 frames, 7 crops of 96 each); class 1: four short pieces.
  const std::vector<Example> set = {{nullptr, 1366, {0}}, {nullptr, 1366, {0}},
                                    {nullptr, 120, {1}},  {nullptr, 120, {1}},
                                    {nullptr, 120, {1}},  {nullptr, 120, {1}}};
  TrainParams p = train_default_params();
  p.crops_per_track = 0;
  EXPECT_EQ(crops_per_epoch(set[0], p, 96, 1366), 7);
  EXPECT_EQ(crops_per_epoch(set[2], p, 96, 1366), 1);
  EXPECT_EQ(crops_per_epoch(set[0], p, 1366, 1366), 1);  // whole excerpts: one each

  auto w = class_weights(set, p, 2, 96, 1366);  // by tracks: 2 vs 4 of 6
  EXPECT_FLOAT_EQ(w[0], 1.5f);
  EXPECT_FLOAT_EQ(w[1], 0.75f);
  p.balance_by_crops = true;  // by crops: 14 vs 4 of 18, so both classes carry equal loss mass
  w = class_weights(set, p, 2, 96, 1366);
  EXPECT_FLOAT_EQ(w[0], 18.0f / 28.0f);
  EXPECT_FLOAT_EQ(w[1], 18.0f / 8.0f);
  EXPECT_FLOAT_EQ(w[0] * 14, w[1] * 4);
  p.balance_classes = false;
  EXPECT_EQ(class_weights(set, p, 2, 96, 1366), std::vector<float>(2, 1.0f));
}

TEST(CropOffsets, CoverTheValidPart) {
  EXPECT_EQ(crop_offsets(1366, 1366, 0), std::vector<int>{0});
  EXPECT_EQ(crop_offsets(1366, 1366, 1366), std::vector<int>{0});
  const auto o = crop_offsets(1366, 1366, 96);
  EXPECT_EQ(o.front(), 0);
  EXPECT_EQ(o.back(), 1366 - 96);
  EXPECT_EQ(crop_offsets(1366, 50, 96),
            std::vector<int>{0});  // shorter than a crop: one padded crop
}

}  // namespace
}  // namespace genre
