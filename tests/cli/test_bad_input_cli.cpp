// Bad input end to end, as a new user meets it: one clear line per bad file on stderr (genre's
// words first, the library's detail after), no decoder chatter, exit 1, the good files still
// processed, no partial output left behind, previous outputs intact after a full disk.
#include <gtest/gtest.h>
#include <sndfile.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "features/npy.h"
#include "support/test_support.h"

namespace genre {
namespace {

namespace fs = std::filesystem;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// A folder with two good files and every kind of bad one.
void make_bad_folder(const std::string& in) {
  fs::create_directories(in + "/sub");
  test::write_audio(in + "/good.wav", test::sine(440, 3.0, 22050), 22050, 1,
                    SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  test::write_audio(in + "/sub/good2.flac", test::noise(2.0, 16000, 2), 16000, 1,
                    SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
  test::write_audio(in + "/cut.flac", test::noise(30.0, 22050, 3), 22050, 1,
                    SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
  fs::resize_file(in + "/cut.flac", 300);
  std::string random;
  std::uint32_t x = 7;
  for (int i = 0; i < 50000; ++i)
    random += static_cast<char>((x = x * 1664525u + 1013904223u) >> 24);
  test::write_bytes(in + "/random.mp3", random);
  test::write_bytes(in + "/empty.ogg", "");
  fs::create_directory_symlink("..", in + "/sub/loop");
}

const char* const kBadNames[] = {"cut.flac", "random.mp3", "empty.ogg", "loop"};

TEST(BadInputCli, FeaturesReportsEachBadFileOnceAndWritesTheGoodOnes) {
  test::TempDir dir;
  make_bad_folder(dir.file("in"));
  std::string err;
  const int code = test::run_command(
      test::genre_binary() + " features " + dir.file("in") + " -o " + dir.file("out") + " -j 2",
      nullptr, &err);
  EXPECT_EQ(code, 1) << err;
  for (const char* name : kBadNames) {
    int mentions = 0;
    for (const auto& line : lines_of(err))
      if (line.find(name) != std::string::npos) {
        ++mentions;
        EXPECT_EQ(line.rfind("genre features: error: ", 0), 0u) << line;
      }
    EXPECT_EQ(mentions, 1) << name << " in:\n" << err;
  }
#ifndef __SANITIZE_ADDRESS__  // sanitizer builds let stderr through unfiltered (stderr_filter.h)
  EXPECT_EQ(err.find("Note: "), std::string::npos) << "decoder chatter leaked:\n" << err;
  EXPECT_EQ(err.find("[src/libmpg123"), std::string::npos) << err;
#endif
  EXPECT_NE(err.find("wrote 2 of 6"), std::string::npos) << err;
  EXPECT_TRUE(fs::exists(dir.file("out/good.npy")));
  EXPECT_TRUE(fs::exists(dir.file("out/sub/good2.npy")));
  std::vector<std::string> outputs;
  for (const auto& e : fs::recursive_directory_iterator(dir.file("out")))
    if (e.is_regular_file()) outputs.push_back(e.path().filename().string());
  EXPECT_EQ(outputs.size(), 2u) << "no output for a bad input, no temporary file";
}

TEST(BadInputCli, PredictMarksEachBadFileInJsonl) {
  const std::string model = std::string(GENRE_SOURCE_DIR) + "/models/genre-crnn.pt";
  if (!fs::exists(model)) GTEST_SKIP() << "shipped model missing: " << model;
  test::TempDir dir;
  make_bad_folder(dir.file("in"));
  std::string err;
  const int code = test::run_command(test::genre_binary() + " predict -q -m " + model + " " +
                                         dir.file("in") + " --jsonl -o " + dir.file("p.jsonl"),
                                     nullptr, &err);
  EXPECT_EQ(code, 1) << err;
  int ok = 0, failed = 0;
  for (const auto& line : lines_of(slurp(dir.file("p.jsonl")))) {
    const auto j = nlohmann::json::parse(line);
    (j.value("ok", false) ? ok : failed) += 1;
  }
  EXPECT_EQ(ok, 2);
  EXPECT_EQ(failed, 4);
}

TEST(BadInputCli, NonUtf8FileNamesGiveValidJson) {
  const std::string model = std::string(GENRE_SOURCE_DIR) + "/models/genre-crnn.pt";
  if (!fs::exists(model)) GTEST_SKIP() << "shipped model missing: " << model;
  test::TempDir dir;
  const std::string odd = dir.file(std::string("caf\xe9-\xff.wav"));
  test::write_audio(odd, test::sine(330, 3.0, 12000), 12000, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  std::string out, err;
  EXPECT_EQ(
      test::run_command(test::genre_binary() + " predict -q --json -m " + model + " '" + odd + "'",
                        &out, &err),
      0)
      << err;
  const auto doc = nlohmann::json::parse(out);
  ASSERT_EQ(doc.at("predictions").size(), 1u);
  EXPECT_TRUE(doc["predictions"][0].value("ok", false));
}

TEST(BadInputCli, ListWithMissingFilesProcessesTheRest) {
  test::TempDir dir;
  test::write_audio(dir.file("a.wav"), test::sine(440, 2.0, 12000), 12000, 1,
                    SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  std::ofstream(dir.file("list.txt")) << dir.file("gone.wav") << "\n" << dir.file("a.wav") << "\n";
  std::string err;
  EXPECT_EQ(test::run_command(test::genre_binary() + " features -q @" + dir.file("list.txt") +
                                  " -o " + dir.file("out"),
                              nullptr, &err),
            1);
  EXPECT_NE(err.find("gone.wav: no such file"), std::string::npos) << err;
  EXPECT_TRUE(fs::exists(dir.file("out/a.npy")));
}

// A full disk (a file size limit, with SIGXFSZ ignored as the shell does it for the child):
// a clear error and the output of the previous run intact.
TEST(BadInputCli, FullDiskKeepsPreviousOutputs) {
  test::TempDir dir;
  test::write_audio(dir.file("a.wav"), test::sine(440, 2.0, 12000), 12000, 1,
                    SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  const std::string features = test::genre_binary() + " features -q " + dir.file("a.wav") + " -o " +
                               dir.file("out") + " --whole";
  ASSERT_EQ(test::run_command(features), 0);
  const std::string before = slurp(dir.file("out/a.npy"));
  test::write_audio(dir.file("a.wav"), test::sine(440, 60.0, 12000), 12000, 1,
                    SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  std::string err;
  // ulimit -f counts 1024-byte blocks: 64 KiB is less than the new 1.1 MB log-mel.
  EXPECT_EQ(test::run_command("ulimit -f 64; " + features, nullptr, &err), 1) << err;
  EXPECT_NE(err.find("a.npy"), std::string::npos) << err;
  EXPECT_NE(err.find("disk full"), std::string::npos) << err;
  EXPECT_EQ(slurp(dir.file("out/a.npy")), before);
  for (const auto& e : fs::directory_iterator(dir.file("out")))
    EXPECT_EQ(e.path().filename().string(), "a.npy") << "left behind: " << e.path();
}

}  // namespace
}  // namespace genre
