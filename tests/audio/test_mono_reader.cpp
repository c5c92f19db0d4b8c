// Reading a file in order a block at a time (audio/mono_reader.h): the samples of a whole
// decode_mono() however the reads are cut, the frame count of MP3 and Ogg, and the end-of-file
// checks a whole read makes.
#include <gtest/gtest.h>
#include <sndfile.h>

#include <filesystem>
#include <random>

#include "audio/mono_reader.h"
#include "common/error.h"
#include "support/test_support.h"

namespace genre {
namespace {

std::vector<float> read_in_uneven_blocks(const std::string& path, std::uint32_t seed) {
  MonoReader reader(path);
  std::mt19937 rng(seed);
  std::vector<float> out;
  for (;;) {
    const std::int64_t want = 1 + rng() % 50000;
    if (reader.read(want, out) < want) break;
  }
  EXPECT_EQ(reader.position(), static_cast<std::int64_t>(out.size()));
  return out;
}

TEST(MonoReader, UnevenBlocksGiveTheWholeDecodeBitForBit) {
  test::TempDir dir;
  const std::vector<float> stereo = test::noise(7.0, 2 * 22050, 3);  // 7 s of 2 channels
  const std::pair<const char*, int> formats[] = {
      {"a.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16},
      {"a.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16},
      {"a.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS},
      {"a.mp3", SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III}};
  for (const auto& [name, format] : formats) {
    SCOPED_TRACE(name);
    SF_INFO probe{};
    probe.samplerate = 22050;
    probe.channels = 2;
    probe.format = format;
    if (!sf_format_check(&probe)) continue;  // an older libsndfile without MP3 writing
    test::write_audio(dir.file(name), stereo, 22050, 2, format);
    const std::vector<float> whole = decode_mono(dir.file(name), nullptr);
    EXPECT_EQ(read_in_uneven_blocks(dir.file(name), 1), whole);
    EXPECT_EQ(count_decoded_frames(dir.file(name)), static_cast<std::int64_t>(whole.size()));
  }
}

TEST(MonoReader, ReadsFromAStartFrame) {
  test::TempDir dir;
  const std::vector<float> y = test::noise(2.0, 16000, 5);
  test::write_audio(dir.file("a.wav"), y, 16000, 1, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  MonoReader reader(dir.file("a.wav"), 1000);
  std::vector<float> out;
  EXPECT_EQ(reader.read(500, out), 500);
  EXPECT_EQ(reader.position(), 1500);
  EXPECT_EQ(out, std::vector<float>(y.begin() + 1000, y.begin() + 1500));
}

TEST(MonoReader, AFileCutShortIsReportedAtItsEnd) {
  test::TempDir dir;
  test::write_audio(dir.file("a.wav"), test::noise(2.0, 16000, 9), 16000, 1,
                    SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  std::filesystem::copy_file(dir.file("a.wav"), dir.file("cut.wav"));
  std::filesystem::resize_file(dir.file("cut.wav"),
                               std::filesystem::file_size(dir.file("a.wav")) / 2);
  MonoReader reader(dir.file("cut.wav"));
  std::vector<float> out;
  EXPECT_EQ(reader.read(1000, out), 1000);  // the start is there
  try {
    reader.read(1 << 20, out);
    FAIL() << "no error for a file cut short";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kCorrupt);
    EXPECT_NE(std::string(e.what()).find("cut.wav"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace genre
