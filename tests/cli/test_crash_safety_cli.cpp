// Crash safety (label "slow"): genre train, predict --resume and features killed with SIGKILL at
// random moments, again and again, end with the same results as uninterrupted runs: every result
// exactly once, no torn file, and a torn checkpoint is rejected with a message.
#include <gtest/gtest.h>
#include <signal.h>
#include <sndfile.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "features/npy.h"
#include "model/model_file.h"
#include "support/test_support.h"

namespace genre {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const std::string kTinyArch =
    " --channels 4,4,8,8,8 --pools 2x2,2x2,2x2,3x1,4x1 --input-frames 64 --threads 2 -q";
constexpr int kKills = 20;

// Runs `command` (through sh) and SIGKILLs it after `delay`, unless it ends first.
// Returns true when it was killed, false when it finished on its own (with status 0 expected).
bool run_and_kill_after(const std::string& command, std::chrono::milliseconds delay) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    ::execl("/bin/sh", "sh", "-c", ("exec " + command + " >/dev/null 2>&1").c_str(), nullptr);
    ::_exit(127);
  }
  ::setpgid(pid, pid);
  const auto deadline = Clock::now() + delay;
  int status = 0;
  while (Clock::now() < deadline) {
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << command;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(-pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return true;
}

double seconds_of(const std::string& command) {
  const auto t0 = Clock::now();
  EXPECT_EQ(test::run_command(command), 0) << command;
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Kills `command` at kKills random moments (each within the first half of an uninterrupted
// run's duration), running `resumed` after the first start, then lets it finish. A run that
// ends before its kill moment does not count: attempts go on until kKills runs were killed.
int kill_repeatedly(const std::string& first, const std::function<std::string()>& resumed,
                    double full_seconds, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> moment(0.05, 0.5);
  int killed = 0;
  for (int attempt = 0; killed < kKills && attempt < 4 * kKills; ++attempt) {
    const std::string cmd = attempt == 0 ? first : resumed();
    const auto delay =
        std::chrono::milliseconds(static_cast<int>(1000 * full_seconds * moment(rng)));
    if (run_and_kill_after(cmd, delay)) ++killed;
  }
  EXPECT_EQ(test::run_command(resumed()), 0);
  return killed;
}

void expect_same_weights(const std::string& a_path, const std::string& b_path) {
  const Model a = load_model(a_path), b = load_model(b_path);
  auto pb = b.net->named_parameters();
  for (const auto& p : a.net->named_parameters())
    EXPECT_TRUE(torch::allclose(p.value(), pb[p.key()], 0, 1e-6)) << p.key();
}

// Resumes after every kill. A resumed run that gets to the end is checked against the
// uninterrupted one and the next run starts from scratch, until kKills runs were killed.
TEST(CrashSafety, TrainKilledTwentyTimesEndsWithTheSameWeights) {
  test::TempDir dir;
  test::make_synthetic_dataset(dir.file("data"), 3, 1.0);
  const std::string common = test::genre_binary() + " train --data " + dir.file("data") +
                             " --split none --epochs 12 --batch-size 4 --seed 5 --no-cache" +
                             kTinyArch;
  const double full = seconds_of(common + " -o " + dir.file("full.pt"));
  const std::string out = dir.file("killed.pt"), ckpt = out + ".ckpt", log = out + ".log.jsonl";
  const std::string start = common + " -o " + out;
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> moment(0.05, 0.8);
  int killed = 0, completed = 0;
  for (int attempt = 0; killed < kKills && attempt < 5 * kKills; ++attempt) {
    const std::string cmd = fs::exists(ckpt) ? start + " --resume " + ckpt : start;
    const auto delay = std::chrono::milliseconds(static_cast<int>(1000 * full * moment(rng)));
    if (run_and_kill_after(cmd, delay)) {
      ++killed;
      continue;
    }
    ++completed;
    expect_same_weights(dir.file("full.pt"), out);
    for (const auto& f : {out, ckpt, log}) fs::remove(f);
  }
  EXPECT_EQ(killed, kKills);
  ASSERT_EQ(test::run_command(fs::exists(ckpt) ? start + " --resume " + ckpt : start), 0);
  expect_same_weights(dir.file("full.pt"), out);
  std::cout << killed << " kills, " << completed + 1 << " resumed runs completed\n";
  // The log is whole and lists every epoch once.
  std::ifstream in(log);
  int epochs = 0;
  for (std::string line; std::getline(in, line); ++epochs)
    EXPECT_EQ(nlohmann::json::parse(line).at("epoch").get<int>(), epochs + 1);
  EXPECT_EQ(epochs, 12);
}

TEST(CrashSafety, TornCheckpointIsRejectedWithAMessage) {
  test::TempDir dir;
  test::make_synthetic_dataset(dir.file("data"), 2, 1.0);
  const std::string common = test::genre_binary() + " train --data " + dir.file("data") +
                             " --split none --batch-size 4 --no-cache" + kTinyArch;
  ASSERT_EQ(test::run_command(common + " --epochs 2 -o " + dir.file("m.pt")), 0);
  const std::string ckpt = dir.file("m.pt.ckpt");
  fs::resize_file(ckpt, fs::file_size(ckpt) / 2);
  std::string err;
  EXPECT_EQ(test::run_command(common + " -o " + dir.file("m2.pt") + " --epochs 3 --resume " + ckpt,
                              nullptr, &err),
            1);
  EXPECT_NE(err.find(ckpt), std::string::npos) << err;
  EXPECT_NE(err.find("truncated or corrupt"), std::string::npos) << err;
  fs::resize_file(dir.file("m.pt"), fs::file_size(dir.file("m.pt")) / 2);
  EXPECT_EQ(test::run_command(test::genre_binary() + " info " + dir.file("m.pt"), nullptr, &err),
            1);
  EXPECT_NE(err.find("truncated or corrupt"), std::string::npos) << err;
}

void make_clips(const std::string& dir, int n) {
  fs::create_directories(dir);
  for (int i = 0; i < n; ++i)
    test::write_audio(dir + "/clip" + std::to_string(100 + i) + ".wav",
                      test::sine(200 + 37 * i, 2.5, 12000), 12000, 1,
                      SF_FORMAT_WAV | SF_FORMAT_PCM_16);
}

TEST(CrashSafety, PredictResumeKilledRepeatedlyGivesEveryResultOnce) {
  const std::string model = std::string(GENRE_SOURCE_DIR) + "/models/genre-crnn.pt";
  if (!fs::exists(model)) GTEST_SKIP() << "shipped model missing";
  test::TempDir dir;
  const int n = 60;
  make_clips(dir.file("in"), n);
  const std::string cmd = test::genre_binary() + " predict -q -j 1 --threads 1 --batch-size 1 -m " +
                          model + " " + dir.file("in") + " --jsonl --resume -o " +
                          dir.file("p.jsonl");
  const double full = seconds_of(cmd);
  fs::remove(dir.file("p.jsonl"));
  kill_repeatedly(
      cmd, [&] { return cmd; }, full, 21);
  std::map<std::string, int> seen;
  std::ifstream in(dir.file("p.jsonl"));
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);  // no torn line survives
    EXPECT_TRUE(j.value("ok", false)) << line;
    ++seen[j.at("input").get<std::string>()];
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(n));
  for (const auto& [input, count] : seen) EXPECT_EQ(count, 1) << input;
}

TEST(CrashSafety, FeaturesKilledRepeatedlyLeavesOnlyWholeFiles) {
  test::TempDir dir;
  const int n = 40;
  make_clips(dir.file("in"), n);
  const std::string cmd =
      test::genre_binary() + " features -q -j 2 " + dir.file("in") + " -o " + dir.file("out");
  const double full = seconds_of(cmd);
  fs::remove_all(dir.file("out"));
  kill_repeatedly(
      cmd, [&] { return cmd; }, full, 31);
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir.file("out"))) {
    ++files;
    EXPECT_EQ(e.path().extension(), ".npy") << "left behind: " << e.path();
    EXPECT_EQ(read_npy(e.path().string()).shape, (std::vector<std::int64_t>{96, 1366}));
  }
  EXPECT_EQ(files, n);
}

}  // namespace
}  // namespace genre
