// Transfer models end to end through the CLI on synthetic data: `genre cv --backbone`, `genre
// train --backbone`, then predict, evaluate, info and export on the result.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "model/model_file.h"
#include "support/test_support.h"

namespace genre {
namespace {

namespace fs = std::filesystem;

std::string genre() { return test::genre_binary(); }

TEST(TransferCli, CrossValidateTrainPredictEvaluateExport) {
  test::TempDir dir;
  test::make_synthetic_dataset(dir.file("data"), 4, 2.0);
  test::write_tiny_tagger(dir.file("a.pt"), 1);
  test::write_tiny_tagger(dir.file("b.pt"), 2);
  const std::string backbones =
      " --backbone " + dir.file("a.pt") + " --backbone " + dir.file("b.pt");
  std::string out, err;
  ASSERT_EQ(test::run_command(genre() + " cv --data " + dir.file("data") + backbones +
                                  " --folds 2 --epochs 30 --batch-size 4 --weight-decay 1e-3 "
                                  "--threads 2 -q --no-cache --json",
                              &out, &err),
            0)
      << err;
  const auto cv = nlohmann::json::parse(out);
  EXPECT_EQ(cv["folds"].size(), 2u);
  EXPECT_EQ(cv["pooled"]["tracks"], 16);
  EXPECT_EQ(cv["backbones"].size(), 2u);
  EXPECT_EQ(cv["arch"]["backbones"].size(), 2u);
  // Four easy synthetic classes (tones, noise, clicks, chirps): even random conv features
  // separate them well above chance (0.25).
  EXPECT_GE(cv["mean_accuracy"].get<double>(), 0.5) << out;

  ASSERT_EQ(test::run_command(genre() + " train --data " + dir.file("data") + backbones +
                                  " --split none --epochs 30 --batch-size 4 --threads 2 -q "
                                  "--no-cache -o " +
                                  dir.file("t.pt"),
                              nullptr, &err),
            0)
      << err;
  ASSERT_EQ(test::run_command(genre() + " predict --json --model " + dir.file("t.pt") + " " +
                                  dir.file("data/tone"),
                              &out, &err),
            0)
      << err;
  const auto pred = nlohmann::json::parse(out);
  ASSERT_EQ(pred["predictions"].size(), 4u);
  int tones = 0;
  for (const auto& r : pred["predictions"]) tones += r["label"] == "tone";
  EXPECT_GE(tones, 3) << out;  // trained on these very clips
  ASSERT_EQ(test::run_command(genre() + " evaluate --json -m " + dir.file("t.pt") + " --data " +
                                  dir.file("data") + " --split all --no-cache",
                              &out, &err),
            0)
      << err;
  EXPECT_GE(nlohmann::json::parse(out)["accuracy"].get<double>(), 0.75) << out;
  ASSERT_EQ(test::run_command(genre() + " info " + dir.file("t.pt"), &out, &err), 0) << err;
  const auto info = nlohmann::json::parse(out);
  EXPECT_EQ(info["arch"]["backbones"].size(), 2u);
  EXPECT_EQ(info["provenance"]["backbones"].size(), 2u);
  ASSERT_EQ(test::run_command(genre() + " export " + dir.file("t.pt") + " -o " + dir.file("w.pt"),
                              nullptr, &err),
            0)
      << err;
  EXPECT_TRUE(fs::exists(dir.file("w.pt.json")));

  // --backbone and --init together, or a multi-label dataset, are usage errors.
  EXPECT_NE(test::run_command(genre() + " cv --data " + dir.file("data") + backbones + " --init " +
                                  dir.file("a.pt") + " -q --no-cache",
                              nullptr, &err),
            0);
  EXPECT_NE(err.find("either --backbone or --init"), std::string::npos) << err;
}

// --head-hidden: a hidden ReLU layer in the head, kept in the model file and used by cv,
// predict and info like the dense head.
TEST(TransferCli, AHiddenLayerHead) {
  test::TempDir dir;
  test::make_synthetic_dataset(dir.file("data"), 4, 2.0);
  test::write_tiny_tagger(dir.file("a.pt"), 1);
  const std::string common = " --data " + dir.file("data") + " --backbone " + dir.file("a.pt") +
                             " --head-hidden 16 --final-dropout 0.2 --epochs 30 --batch-size 4 "
                             "--threads 2 -q --no-cache";
  std::string out, err;
  ASSERT_EQ(test::run_command(genre() + " cv" + common + " --folds 2 --json", &out, &err), 0)
      << err;
  const auto cv = nlohmann::json::parse(out);
  EXPECT_EQ(cv["arch"]["head_hidden"], 16) << out;
  EXPECT_GE(cv["mean_accuracy"].get<double>(), 0.5) << out;
  ASSERT_EQ(test::run_command(genre() + " train" + common + " --split none -o " + dir.file("t.pt"),
                              nullptr, &err),
            0)
      << err;
  ASSERT_EQ(test::run_command(genre() + " info " + dir.file("t.pt"), &out, &err), 0) << err;
  EXPECT_EQ(nlohmann::json::parse(out)["arch"]["head_hidden"], 16) << out;
  ASSERT_EQ(test::run_command(genre() + " predict --json --model " + dir.file("t.pt") + " " +
                                  dir.file("data/tone"),
                              &out, &err),
            0)
      << err;
  const auto pred = nlohmann::json::parse(out);  // kept alive for the loop below
  int tones = 0;
  for (const auto& r : pred["predictions"]) tones += r["label"] == "tone";
  EXPECT_GE(tones, 3) << out;
  // Only transfer models have a head to widen.
  EXPECT_EQ(test::run_command(genre() + " train --data " + dir.file("data") +
                                  " --head-hidden 16 -q --no-cache -o " + dir.file("x.pt"),
                              nullptr, &err),
            2);
  EXPECT_NE(err.find("head_hidden applies to transfer models only"), std::string::npos) << err;
}

}  // namespace
}  // namespace genre
