// `genre train`, `evaluate`, `cv`, `info` and `export` end to end on synthetic data, including a
// training run killed with SIGKILL and resumed.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "support/test_support.h"

namespace genre {
namespace {

namespace fs = std::filesystem;

const std::string kTinyArch =
    " --channels 4,4,8,8,8 --pools 2x2,2x2,2x2,3x1,4x1 --input-frames 64 --threads 2 -q --no-cache";

std::string genre() { return test::genre_binary(); }

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(TrainCli, TrainEvaluateInfoExport) {
  test::TempDir dir;
  test::make_synthetic_dataset(dir.file("data"), 5, 2.0);
  std::string out, err;
  ASSERT_EQ(
      test::run_command(
          genre() + " train --data " + dir.file("data") + " -o " + dir.file("m.pt") +
              " --epochs 6 --batch-size 8 --split random --valid-fraction 0.2 --test-fraction 0.2" +
              kTinyArch,
          &out, &err),
      0)
      << err;
  EXPECT_NE(out.find("test set:"), std::string::npos) << out;
  EXPECT_TRUE(fs::exists(dir.file("m.pt.ckpt")));
  EXPECT_TRUE(fs::exists(dir.file("m.pt.curves.svg")));
  std::ifstream log(dir.file("m.pt.log.jsonl"));
  int lines = 0;
  for (std::string line; std::getline(log, line); ++lines)
    EXPECT_TRUE(nlohmann::json::parse(line).contains("valid_score"));
  EXPECT_EQ(lines, 6);

  // evaluate reuses the training split by default; JSON and picture outputs.
  ASSERT_EQ(
      test::run_command(genre() + " evaluate -m " + dir.file("m.pt") + " --data " +
                            dir.file("data") + " --json --no-cache --plot " + dir.file("cm.png"),
                        &out, &err),
      0)
      << err;
  const auto report = nlohmann::json::parse(out);
  EXPECT_EQ(report["tracks"], 4);  // 20% of 5 per class, 4 classes
  EXPECT_EQ(report["confusion_matrix"].size(), 4u);
  EXPECT_TRUE(fs::exists(dir.file("cm.png")));
  ASSERT_EQ(test::run_command(genre() + " evaluate -m " + dir.file("m.pt") + " --data " +
                                  dir.file("data") + " --split all --no-cache",
                              &out, &err),
            0);
  EXPECT_NE(out.find("confusion matrix"), std::string::npos);

  ASSERT_EQ(test::run_command(genre() + " info " + dir.file("m.pt"), &out, &err), 0) << err;
  const auto info = nlohmann::json::parse(out);
  EXPECT_EQ(info["classes"].size(), 4u);
  EXPECT_EQ(info["training"]["epochs_run"], 6);
  EXPECT_EQ(info["features"]["n_mels"], 96);

  ASSERT_EQ(test::run_command(
                genre() + " export " + dir.file("m.pt") + " --state-dict -o " + dir.file("sd.pt"),
                &out, &err),
            0)
      << err;
  EXPECT_TRUE(fs::exists(dir.file("sd.pt")));
  EXPECT_TRUE(fs::exists(dir.file("sd.pt.json")));

  // Errors: missing data, foreign model file.
  EXPECT_EQ(test::run_command(genre() + " train --data " + dir.file("nope") + " -o " +
                              dir.file("x.pt") + kTinyArch),
            1);
  test::write_bytes(dir.file("fake.pt"), "not a model");
  ASSERT_EQ(test::run_command(genre() + " info " + dir.file("fake.pt"), &out, &err), 1);
  EXPECT_NE(err.find("not a genre model"), std::string::npos) << err;
}

TEST(TrainCli, SplitListsWithMissingTracks) {
  test::TempDir dir;
  test::make_synthetic_dataset(dir.file("data"), 3, 1.5);
  fs::create_directories(dir.file("split"));
  std::ofstream(dir.file("split/train.txt"))
      << "tone/tone.0.wav\nnoise/noise.0.wav\nclicks/clicks.0.wav\n"
         "chirp/chirp.0.wav\ntone/tone.1.wav\nnoise/noise.1.wav\n";
  std::ofstream(dir.file("split/valid.txt"))
      << "clicks/clicks.1.wav\nchirp/chirp.1.wav\ntone/tone.99.wav\n";
  std::ofstream(dir.file("split/test.txt")) << "tone/tone.2.au\nnoise/noise.2.wav\n";
  std::string out, err;
  ASSERT_EQ(test::run_command(genre() + " train --data " + dir.file("data") + " --split " +
                                  dir.file("split") + " -o " + dir.file("m.pt") +
                                  " --epochs 1 --batch-size 4" + kTinyArch,
                              &out, &err),
            0)
      << err;
  EXPECT_NE(err.find("10 of 11 listed tracks found, 1 missing"), std::string::npos) << err;
  EXPECT_NE(err.find("train 6, valid 2, test 2"), std::string::npos) << err;
}

TEST(TrainCli, KilledRunResumesToTheSameModel) {
  test::TempDir dir;
  test::make_synthetic_dataset(dir.file("data"), 4, 2.0);
  const std::string common = " train --data " + dir.file("data") +
                             " --split none --epochs 8 --batch-size 4 --seed 3" +
                             " --random-crop --mixup 0.3" + kTinyArch;
  std::string err;
  ASSERT_EQ(test::run_command(genre() + common + " -o " + dir.file("full.pt"), nullptr, &err), 0)
      << err;

  // Start the same run, kill it hard once a checkpoint exists, then resume it.
  const std::string ckpt = dir.file("killed.pt.ckpt");
  std::system((genre() + common + " -o " + dir.file("killed.pt") +
               " > /dev/null 2>&1 & echo $! > " + dir.file("pid"))
                  .c_str());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!fs::exists(ckpt) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(fs::exists(ckpt));
  const int pid = std::stoi(read_all(dir.file("pid")));
  ::kill(pid, SIGKILL);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_EQ(
      test::run_command(genre() + common + " -o " + dir.file("killed.pt") + " --resume " + ckpt,
                        nullptr, &err),
      0)
      << err;

  // Same predictions from both models.
  std::string a, b;
  ASSERT_EQ(
      test::run_command(
          genre() + " predict " + dir.file("data") + " --jsonl -q -m " + dir.file("full.pt"), &a),
      0);
  ASSERT_EQ(
      test::run_command(
          genre() + " predict " + dir.file("data") + " --jsonl -q -m " + dir.file("killed.pt"), &b),
      0);
  std::istringstream sa(a), sb(b);
  std::string la, lb;
  int n = 0;
  while (std::getline(sa, la) && std::getline(sb, lb)) {
    const auto ja = nlohmann::json::parse(la), jb = nlohmann::json::parse(lb);
    for (auto& [label, p] : ja["probabilities"].items())
      EXPECT_NEAR(p.get<double>(), jb["probabilities"][label].get<double>(), 1e-5) << la;
    ++n;
  }
  EXPECT_EQ(n, 16);
}

// bf16 autocast in training (--amp bf16) trains a usable model.
TEST(TrainCli, Bf16AutocastTrains) {
  test::TempDir dir;
  test::make_synthetic_dataset(dir.file("data"), 4, 2.0);
  std::string err;
  ASSERT_EQ(test::run_command(genre() + " train --data " + dir.file("data") +
                                  " --split none --epochs 4 --batch-size 4 --amp bf16 -o " +
                                  dir.file("m.pt") + kTinyArch,
                              nullptr, &err),
            0)
      << err;
  std::ifstream log(dir.file("m.pt.log.jsonl"));
  int lines = 0;
  for (std::string line; std::getline(log, line); ++lines)
    EXPECT_TRUE(std::isfinite(nlohmann::json::parse(line)["train_loss"].get<double>()));
  EXPECT_EQ(lines, 4);
  // fp16 autocast is CUDA-only: on the CPU it is a usage error that says so.
  EXPECT_EQ(test::run_command(genre() + " train --data " + dir.file("data") +
                                  " --device cpu --amp fp16 -o " + dir.file("x.pt") + kTinyArch,
                              nullptr, &err),
            2);
  EXPECT_NE(err.find("--amp fp16 needs a CUDA device"), std::string::npos) << err;
}

TEST(CvCli, TinySyntheticCrossValidation) {
  test::TempDir dir;
  test::make_synthetic_dataset(dir.file("data"), 3, 1.5);
  test::make_synthetic_dataset(dir.file("extra"), 2, 1.5, 7);
  std::string out, err;
  ASSERT_EQ(test::run_command(genre() + " cv --data " + dir.file("data") + " --extra-train " +
                                  dir.file("extra") +
                                  " --folds 3 --epochs 3 --batch-size 4 --json --plot " +
                                  dir.file("cv.svg") + kTinyArch,
                              &out, &err),
            0)
      << err;
  const auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["folds"].size(), 3u);
  EXPECT_GE(j["mean_accuracy"].get<double>(), 0.0);
  EXPECT_LE(j["mean_accuracy"].get<double>(), 1.0);
  EXPECT_TRUE(j.contains("std_accuracy"));
  EXPECT_EQ(j["pooled"]["tracks"], 12);  // every whole track evaluated exactly once, extras never
  // 64-frame crops with 8x time pooling share their convolutions; the training-exact policy is
  // reported beside it.
  EXPECT_GE(j["independent_crops_accuracy"].get<double>(), 0.0);
  EXPECT_LE(j["independent_crops_accuracy"].get<double>(), 1.0);
  EXPECT_TRUE(fs::exists(dir.file("cv.svg")));

  // Per-track results: each whole track once, with probabilities whose argmax is the prediction,
  // and agreeing with the pooled accuracy.
  ASSERT_EQ(j["tracks"].size(), 12u);
  std::set<std::string> ids;
  int correct = 0;
  for (const auto& t : j["tracks"]) {
    ids.insert(t["id"].get<std::string>());
    EXPECT_GE(t["fold"].get<int>(), 0);
    EXPECT_LT(t["fold"].get<int>(), 3);
    double sum = 0, best = -1;
    std::string argmax;
    for (auto& [label, p] : t["probabilities"].items()) {
      sum += p.get<double>();
      if (p.get<double>() > best) best = p.get<double>(), argmax = label;
    }
    EXPECT_NEAR(sum, 1.0, 1e-4);
    EXPECT_EQ(argmax, t["predicted"].get<std::string>());
    correct += t["label"] == t["predicted"];
  }
  EXPECT_EQ(ids.size(), 12u);
  EXPECT_NEAR(j["pooled"]["accuracy"].get<double>(), correct / 12.0, 1e-9);
}

}  // namespace
}  // namespace genre
