// Per-part learning rates and the transfer model's two stages (head on frozen features, then the
// whole network at a lower backbone learning rate), on a synthetic dataset the test makes.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "common/error.h"
#include "data/feature_cache.h"
#include "model/inference.h"
#include "model/transfer_model.h"
#include "support/test_support.h"
#include "train/prepare.h"
#include "train/transfer.h"

namespace genre {
namespace {

TrainParams quiet_params(int epochs) {
  TrainParams p = train_default_params();
  p.epochs = epochs;
  p.batch_size = 4;
  p.threads = 2;
  p.device = "cpu";
  p.quiet = true;
  return p;
}

using Snapshot = std::map<std::string, torch::Tensor>;

Snapshot snapshot(Model& m) {
  Snapshot s;
  for (const auto& p : m.net->named_parameters()) s[p.key()] = p.value().detach().clone();
  return s;
}

// The largest absolute change since `before` of the parameters whose names start (or, with
// with_prefix false, do not start) with `prefix`.
double max_change(const Snapshot& before, Model& after, const std::string& prefix,
                  bool with_prefix) {
  double change = 0;
  for (const auto& p : after.net->named_parameters()) {
    if ((p.key().rfind(prefix, 0) == 0) != with_prefix) continue;
    change = std::max(change, (p.value() - before.at(p.key())).abs().max().item<double>());
  }
  return change;
}

struct Fixture {
  test::TempDir dir;
  PreparedData data;
  Model backbone;
  Fixture() {
    test::make_synthetic_dataset(dir.file("data"), 3, 2.0);
    test::write_tiny_tagger(dir.file("tagger.pt"), 1);
    backbone = load_model(dir.file("tagger.pt"));
    data = prepare_data(dir.file("data"), {}, backbone.info.features, FeatureCache(""), 2, true);
  }
  Model transfer_model() {
    torch::manual_seed(3);
    return make_transfer_model({backbone}, data.dataset.classes, transfer_default_params());
  }
};

TEST(BackboneLearningRate, ZeroFreezesEverythingButTheOutputLayer) {
  Fixture f;
  torch::manual_seed(2);
  ModelInfo info = f.backbone.info;
  info.classes = f.data.dataset.classes;
  info.arch.n_classes = static_cast<int>(info.classes.size());
  info.arch.mode = OutputMode::kSingleLabel;
  Model model = make_model(info);
  transfer_weights(model, f.backbone, false);
  const Snapshot start = snapshot(model);
  TrainParams p = quiet_params(2);
  p.backbone_lr = 0;
  train(model, f.data.select(f.data.all_indices()), {}, p);
  EXPECT_EQ(max_change(start, model, "output.", false), 0.0);
  EXPECT_GT(max_change(start, model, "output.", true), 0.0);
  // Every parameter is trainable again afterwards, as a new model's are.
  for (const auto& param : model.net->parameters()) EXPECT_TRUE(param.requires_grad());
}

TEST(BackboneLearningRate, ALowerRateMovesTheBackboneLess) {
  Fixture f;
  const auto set = f.data.select(f.data.all_indices());
  auto backbone_change = [&](double backbone_lr) {
    Model model = f.transfer_model();
    const Snapshot start = snapshot(model);
    TrainParams p = quiet_params(3);
    p.fine_tune_epochs = 2;
    p.backbone_lr = backbone_lr;
    const TrainResult r = train_transfer(model, set, {}, p);
    EXPECT_EQ(r.history.size(), 5u);  // 3 head epochs, then 2 of the whole model
    EXPECT_EQ(r.history.back().epoch, 5);
    return max_change(start, model, "backbones.", true);
  };
  const double slow = backbone_change(1e-5), fast = backbone_change(1e-3);
  EXPECT_GT(slow, 0.0);
  EXPECT_LT(slow, fast / 5) << "backbone moved " << slow << " at lr 1e-5, " << fast << " at 1e-3";
}

TEST(TransferTraining, WithoutFineTuningTheBackbonesStayAsImported) {
  Fixture f;
  Model model = f.transfer_model();
  const Snapshot start = snapshot(model);
  const TrainResult r =
      train_transfer(model, f.data.select(f.data.all_indices()), {}, quiet_params(4));
  EXPECT_EQ(r.history.size(), 4u);
  EXPECT_EQ(max_change(start, model, "backbones.", true), 0.0);
  EXPECT_GT(max_change(start, model, "output.", true), 0.0);
}

TEST(TransferTraining, AHiddenLayerHeadIsTrainedWithTheOutputLayer) {
  Fixture f;
  TransferParams tp = transfer_default_params();
  tp.head_hidden = 8;
  torch::manual_seed(3);
  Model model = make_transfer_model({f.backbone}, f.data.dataset.classes, tp);
  const Snapshot start = snapshot(model);
  const auto set = f.data.select(f.data.all_indices());
  const TrainResult r = train_transfer(model, set, {}, quiet_params(30));
  EXPECT_EQ(max_change(start, model, "backbones.", true), 0.0);
  EXPECT_GT(max_change(start, model, "hidden.", true), 0.0);
  EXPECT_GT(max_change(start, model, "output.", true), 0.0);
  // The head learns: its training loss falls well below where it started.
  EXPECT_LT(r.history.back().train_loss, 0.7 * r.history.front().train_loss);
}

TEST(TransferTraining, NegativeSettingsAreRejected) {
  Fixture f;
  Model model = f.transfer_model();
  TrainParams p = quiet_params(1);
  p.fine_tune_epochs = 1;
  p.backbone_lr = -0.5;
  EXPECT_EQ(test::error_kind_of(
                [&] { train_transfer(model, f.data.select(f.data.all_indices()), {}, p); }),
            static_cast<int>(ErrorKind::kInvalidArgument));
}

}  // namespace
}  // namespace genre
