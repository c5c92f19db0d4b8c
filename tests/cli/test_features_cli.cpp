// `genre features` end to end on generated audio.
#include <gtest/gtest.h>
#include <sndfile.h>

#include <filesystem>
#include <fstream>

#include "features/npy.h"
#include "support/test_support.h"

namespace genre {
namespace {

namespace fs = std::filesystem;

TEST(FeaturesCli, FolderWithOneCorruptFile) {
  test::TempDir dir;
  fs::create_directories(dir.file("in/sub"));
  test::write_audio(dir.file("in/a.wav"), test::sine(440, 3.0, 22050), 22050, 1,
                    SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  test::write_audio(dir.file("in/sub/b.flac"), test::noise(2.0, 44100, 1), 44100, 1,
                    SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
  test::write_bytes(dir.file("in/broken.mp3"), "this is not an mp3 file at all, just text");
  std::string out, err;
  const int code = test::run_command(
      test::genre_binary() + " features " + dir.file("in") + " -o " + dir.file("out") + " --jobs 2",
      &out, &err);
  EXPECT_EQ(code, 1) << err;
  EXPECT_NE(err.find("broken.mp3"), std::string::npos) << err;
  EXPECT_NE(err.find("wrote 2 of 3"), std::string::npos) << err;
  const NpyArray a = read_npy(dir.file("out/a.npy"));
  EXPECT_EQ(a.shape, (std::vector<std::int64_t>{96, 1366}));
  EXPECT_TRUE(fs::exists(dir.file("out/sub/b.npy")));
  EXPECT_FALSE(fs::exists(dir.file("out/broken.npy")));
  // No temporary files are left behind.
  for (const auto& e : fs::recursive_directory_iterator(dir.file("out")))
    EXPECT_EQ(e.path().string().find(".tmp"), std::string::npos) << e.path();
}

TEST(FeaturesCli, WholeModeListFileAndExitCodes) {
  test::TempDir dir;
  test::write_audio(dir.file("c.wav"), test::sine(220, 5.0, 12000), 12000, 1,
                    SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  std::ofstream(dir.file("list.txt")) << "# inputs\n" << dir.file("c.wav") << "\n";
  std::string err;
  EXPECT_EQ(test::run_command(test::genre_binary() + " features @" + dir.file("list.txt") + " -o " +
                                  dir.file("out") + " --whole -q",
                              nullptr, &err),
            0)
      << err;
  EXPECT_EQ(read_npy(dir.file("out/c.npy")).shape,
            (std::vector<std::int64_t>{96, 1 + 60000 / 256}));
  EXPECT_EQ(test::run_command(test::genre_binary() + " features " + dir.file("c.wav")), 2);
  EXPECT_EQ(test::run_command(test::genre_binary() + " features --bogus x -o y"), 2);
  std::string help;
  EXPECT_EQ(test::run_command(test::genre_binary() + " features --help", &help), 0);
  EXPECT_NE(help.find("--jobs"), std::string::npos);
  EXPECT_NE(help.find("Exit status"), std::string::npos);
}

TEST(FeaturesCli, PathsOnStdin) {
  test::TempDir dir;
  test::write_audio(dir.file("d.wav"), test::sine(330, 1.0, 16000), 16000, 2 / 2,
                    SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  EXPECT_EQ(test::run_command("echo " + dir.file("d.wav") + " | " + test::genre_binary() +
                              " features - -o " + dir.file("out") + " -q"),
            0);
  EXPECT_TRUE(fs::exists(dir.file("out/d.npy")));
}

}  // namespace
}  // namespace genre
