// The CUDA path end to end: training, evaluation and prediction on the GPU next to the CPU.
// Skips where no CUDA device is visible (no machine of this project has one: it has never run).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/test_support.h"

namespace genre {
namespace {

const std::string kTiny =
    " --split random --valid-fraction 0.25 --test-fraction 0 --epochs 3 --seed 4 --batch-size 8"
    " --channels 4,4,8,8,8 --pools 2x2,2x2,2x2,3x1,4x1 --input-frames 64"
    " --conv-dropout 0 --final-dropout 0 -q --no-cache";

std::vector<nlohmann::json> log_lines(const std::string& path) {
  std::vector<nlohmann::json> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

TEST(CudaCli, TrainEvaluatePredictOnTheGpuMatchTheCpu) {
  if (!torch::cuda::is_available())
    GTEST_SKIP() << "no CUDA device (or a CPU-only LibTorch): the CUDA path is not tested here";
  test::TempDir dir;
  test::make_synthetic_dataset(dir.file("data"), 6, 2.0);
  const std::string genre = test::genre_binary();
  std::string err;
  for (const std::string device : {"cpu", "cuda"})
    ASSERT_EQ(test::run_command(genre + " train --data " + dir.file("data") + kTiny + " --device " +
                                    device + " -o " + dir.file(device + ".pt"),
                                nullptr, &err),
              0)
        << err;
  const auto cpu = log_lines(dir.file("cpu.pt.log.jsonl"));
  const auto gpu = log_lines(dir.file("cuda.pt.log.jsonl"));
  ASSERT_EQ(cpu.size(), gpu.size());
  for (std::size_t e = 0; e < cpu.size(); ++e)
    EXPECT_NEAR(cpu[e]["train_loss"].get<double>(), gpu[e]["train_loss"].get<double>(), 1e-3);

  // Each device's model evaluated and used for prediction on the GPU, against the CPU.
  std::string a, b;
  ASSERT_EQ(test::run_command(genre + " evaluate -m " + dir.file("cuda.pt") + " --data " +
                                  dir.file("data") + " --json --no-cache --device cuda",
                              &a, &err),
            0)
      << err;
  ASSERT_EQ(test::run_command(genre + " evaluate -m " + dir.file("cuda.pt") + " --data " +
                                  dir.file("data") + " --json --no-cache --device cpu",
                              &b, &err),
            0)
      << err;
  EXPECT_NEAR(nlohmann::json::parse(a)["accuracy"].get<double>(),
              nlohmann::json::parse(b)["accuracy"].get<double>(), 1e-9);
  const std::string examples = std::string(GENRE_SOURCE_DIR) + "/examples";
  ASSERT_EQ(test::run_command(genre + " predict " + examples + " --jsonl -q --device cuda", &a), 0);
  ASSERT_EQ(test::run_command(genre + " predict " + examples + " --jsonl -q --device cpu", &b), 0);
  std::istringstream sa(a), sb(b);
  std::string la, lb;
  while (std::getline(sa, la) && std::getline(sb, lb)) {
    const auto ja = nlohmann::json::parse(la), jb = nlohmann::json::parse(lb);
    EXPECT_EQ(ja["label"], jb["label"]) << la;
  }
}

// fp16 autocast with dynamic loss scaling trains as fp32 does, to fp16's precision.
TEST(CudaCli, Fp16TrainingWithLossScalingFollowsFp32) {
  if (!torch::cuda::is_available())
    GTEST_SKIP() << "no CUDA device (or a CPU-only LibTorch): fp16 training is not tested here";
  test::TempDir dir;
  test::make_synthetic_dataset(dir.file("data"), 6, 2.0);
  const std::string genre = test::genre_binary();
  std::string err;
  for (const std::string amp : {"none", "fp16"})
    ASSERT_EQ(test::run_command(genre + " train --data " + dir.file("data") + kTiny +
                                    " --device cuda --amp " + amp + " -o " + dir.file(amp + ".pt"),
                                nullptr, &err),
              0)
        << err;
  const auto fp32 = log_lines(dir.file("none.pt.log.jsonl"));
  const auto fp16 = log_lines(dir.file("fp16.pt.log.jsonl"));
  ASSERT_EQ(fp32.size(), fp16.size());
  for (std::size_t e = 0; e < fp32.size(); ++e) {
    EXPECT_TRUE(std::isfinite(fp16[e]["train_loss"].get<double>()));
    EXPECT_NEAR(fp32[e]["train_loss"].get<double>(), fp16[e]["train_loss"].get<double>(), 5e-2);
  }
}

}  // namespace
}  // namespace genre
