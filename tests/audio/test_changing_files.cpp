// Files that change under genre while it reads them (cut short, grown, deleted) and files it may
// not read. Each read either returns the whole track its header declares or fails with a
// genre::Error naming the file: never a crash, a hang or a shortened track passed off as whole.
// The timing of the change is random, so each case runs a few times.
#include <gtest/gtest.h>
#include <sndfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "audio/audio.h"
#include "common/error.h"
#include "support/test_support.h"

namespace genre {
namespace {

namespace fs = std::filesystem;

constexpr int kRate = 48000;
constexpr int kSeconds = 20;

// A 20 s stereo 16-bit WAV (3.8 MB): long enough that a read takes a while.
void write_tone(const std::string& path) {
  SF_INFO info{};
  info.samplerate = kRate;
  info.channels = 2;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  ASSERT_NE(f, nullptr) << sf_strerror(nullptr);
  std::vector<float> block(2 * kRate);
  for (int s = 0; s < kSeconds; ++s) {
    for (int i = 0; i < kRate; ++i)
      block[2 * i] = block[2 * i + 1] = 0.3f * std::sin(0.01f * static_cast<float>(s * kRate + i));
    sf_writef_float(f, block.data(), kRate);
  }
  sf_close(f);
}

const std::size_t kWholeLength = static_cast<std::size_t>(kSeconds) * 12000;

// Reads `path` while `change` runs on another thread after a random delay of up to 40 ms.
// Returns the error kind, or -1 when the read succeeded (and then checks it got everything).
int read_while(const std::string& path, const std::function<void()>& change, unsigned seed) {
  std::mt19937 rng(seed);
  const auto delay = std::chrono::microseconds(std::uniform_int_distribution<int>(0, 40000)(rng));
  std::thread other([&] {
    std::this_thread::sleep_for(delay);
    change();
  });
  int kind = -1;
  try {
    const std::vector<float> y = load_mono(path, 12000);
    EXPECT_EQ(y.size(), kWholeLength) << "a read that succeeds has the whole track";
  } catch (const Error& e) {
    EXPECT_EQ(e.path(), path) << e.what();
    kind = static_cast<int>(e.kind());
  }
  other.join();
  return kind;
}

TEST(ChangingFiles, CutShortWhileBeingReadIsReportedAsTruncated) {
  test::TempDir dir;
  const std::string path = dir.file("cut.wav");
  for (unsigned run = 0; run < 4; ++run) {
    write_tone(path);
    const int kind = read_while(
        path, [&] { fs::resize_file(path, 4096); }, run);
    if (kind >= 0) {
      // Cut before the read began: empty or truncated; during it: truncated.
      EXPECT_TRUE(kind == static_cast<int>(ErrorKind::kCorrupt) ||
                  kind == static_cast<int>(ErrorKind::kNotAudio))
          << error_kind_name(static_cast<ErrorKind>(kind));
    }
  }
}

TEST(ChangingFiles, GrowingWhileBeingReadGivesTheDeclaredLength) {
  test::TempDir dir;
  const std::string path = dir.file("grow.wav");
  for (unsigned run = 0; run < 4; ++run) {
    write_tone(path);
    // Bytes appended after the data chunk the header declares (a recorder still writing, or a
    // download in progress): genre reads what the header declares.
    const int kind = read_while(
        path,
        [&] {
          std::ofstream out(path, std::ios::binary | std::ios::app);
          const std::string more(1 << 20, '\x11');
          for (int i = 0; i < 4; ++i) out.write(more.data(), more.size());
        },
        run);
    EXPECT_EQ(kind, -1) << error_kind_name(static_cast<ErrorKind>(kind));
  }
}

TEST(ChangingFiles, DeletedWhileBeingReadIsReadWholeOrNotFound) {
  test::TempDir dir;
  const std::string path = dir.file("gone.wav");
  for (unsigned run = 0; run < 4; ++run) {
    write_tone(path);
    // An open file stays readable after unlink: the read finishes, or the file was already gone.
    const int kind = read_while(
        path, [&] { fs::remove(path); }, run);
    if (kind >= 0) {
      EXPECT_EQ(kind, static_cast<int>(ErrorKind::kNotFound))
          << error_kind_name(static_cast<ErrorKind>(kind));
    }
  }
}

TEST(ChangingFiles, UnreadableFileGivesTheSystemsReason) {
  if (::geteuid() == 0)
    GTEST_SKIP() << "running as root: permission bits do not deny root reads, nothing to test";
  test::TempDir dir;
  const std::string path = dir.file("locked.wav");
  write_tone(path);
  ASSERT_EQ(::chmod(path.c_str(), 0), 0);
  try {
    load_mono(path, 12000);
    ADD_FAILURE() << "read a file with mode 000";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUnreadable) << e.what();
    EXPECT_NE(std::string(e.what()).find("ermission denied"), std::string::npos) << e.what();
  }
  ::chmod(path.c_str(), 0600);  // so the temporary folder can be removed
}

}  // namespace
}  // namespace genre
