// Hostile audio files: every one decodes correctly or fails with a genre::Error that names the
// file, never a crash, a hang, an unbounded allocation or a truncated track passed off as whole.
#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "audio/audio.h"
#include "common/error.h"
#include "features/features.h"
#include "support/test_support.h"

namespace genre {
namespace {

namespace fs = std::filesystem;

void put_le(std::string& s, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) s += static_cast<char>((v >> (8 * i)) & 0xff);
}

// A canonical 44-byte WAV header; every field may lie.
std::string wav_header(std::uint32_t rate, std::uint16_t channels, std::uint16_t bits,
                       std::uint32_t data_bytes, std::uint16_t format_tag = 1) {
  std::string h = "RIFF";
  put_le(h, 36 + std::uint64_t{data_bytes}, 4);
  h += "WAVEfmt ";
  put_le(h, 16, 4);
  put_le(h, format_tag, 2);
  put_le(h, channels, 2);
  put_le(h, rate, 4);
  put_le(h, std::uint64_t{rate} * channels * bits / 8, 4);
  put_le(h, channels * bits / 8, 2);
  put_le(h, bits, 2);
  h += "data";
  put_le(h, data_bytes, 4);
  return h;
}

std::string pcm16_tone(int frames, int channels) {
  std::string s;
  for (int i = 0; i < frames * channels; ++i)
    put_le(s, static_cast<std::uint16_t>(static_cast<std::int16_t>(8000 * std::sin(i * 0.05))), 2);
  return s;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The error `f` throws (a test failure when it throws none or another type).
Error error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not a genre::Error: " << e.what();
    return Error(ErrorKind::kIo, "", e.what());
  }
  ADD_FAILURE() << "no error thrown";
  return Error(ErrorKind::kIo, "", "none");
}

int load(const std::string& path) { return static_cast<int>(load_mono(path, 12000).size()); }

TEST(HostileAudio, FlacTruncatedAfter300BytesIsReported) {
  test::TempDir dir;
  const std::string path = dir.file("cut.flac");
  test::write_audio(path, test::noise(30.0, 22050, 3), 22050, 1, SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
  fs::resize_file(path, 300);
  const Error e = error_of([&] { load(path); });
  EXPECT_EQ(e.kind(), ErrorKind::kCorrupt) << e.what();
  EXPECT_EQ(e.path(), path);
  EXPECT_NE(std::string(e.what()).find("30.00 s"), std::string::npos) << e.what();
}

TEST(HostileAudio, FlacCutInTheMiddleSaysHowMuchWasRead) {
  test::TempDir dir;
  const std::string path = dir.file("half.flac");
  test::write_audio(path, test::noise(20.0, 22050, 4), 22050, 1, SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
  fs::resize_file(path, fs::file_size(path) / 2);
  const Error e = error_of([&] { extract_logmel(path, feature_default_params(), false); });
  EXPECT_EQ(e.kind(), ErrorKind::kCorrupt) << e.what();
  const std::string what = e.what();
  EXPECT_TRUE(what.find("truncated") != std::string::npos ||
              what.find("decoding failed after") != std::string::npos)
      << what;
}

TEST(HostileAudio, WavWhoseDataIsCutShortIsReported) {
  test::TempDir dir;
  const std::string path = dir.file("short.wav");
  // The header promises 10 s; half a second of samples follows.
  test::write_bytes(path, wav_header(8000, 1, 16, 160000) + pcm16_tone(4000, 1));
  const Error e = error_of([&] { load(path); });
  EXPECT_EQ(e.kind(), ErrorKind::kCorrupt) << e.what();
  EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
}

TEST(HostileAudio, RandomBytesMp3IsNotAudioInGenresWords) {
  test::TempDir dir;
  const std::string path = dir.file("noise.mp3");
  std::string bytes;
  std::uint32_t x = 12345;
  for (int i = 0; i < 20000; ++i)
    bytes += static_cast<char>((x = x * 1664525u + 1013904223u) >> 24);
  test::write_bytes(path, bytes);
  const Error e = error_of([&] { load(path); });
  EXPECT_EQ(e.kind(), ErrorKind::kNotAudio) << e.what();
  EXPECT_EQ(std::string(e.what()).rfind(path + ": not a", 0), 0u) << e.what();
}

TEST(HostileAudio, EmptyAndHeaderOnlyFiles) {
  test::TempDir dir;
  test::write_bytes(dir.file("zero.wav"), "");
  EXPECT_EQ(error_of([&] { load(dir.file("zero.wav")); }).kind(), ErrorKind::kEmpty);
  test::write_bytes(dir.file("header.wav"), wav_header(22050, 1, 16, 0));
  const Error e = error_of([&] { load(dir.file("header.wav")); });
  EXPECT_TRUE(e.kind() == ErrorKind::kEmpty || e.kind() == ErrorKind::kCorrupt) << e.what();
}

TEST(HostileAudio, HeaderRatesAndChannelCountsThatLie) {
  test::TempDir dir;
  const std::string tone = pcm16_tone(1000, 1);
  for (std::uint32_t rate : {0u, 1u, 999u, 4000000000u}) {
    const std::string path = dir.file("rate" + std::to_string(rate) + ".wav");
    test::write_bytes(path,
                      wav_header(rate, 1, 16, static_cast<std::uint32_t>(tone.size())) + tone);
    const Error e = error_of([&] { load(path); });
    EXPECT_EQ(e.path(), path) << rate << ": " << e.what();
  }
  for (std::uint16_t channels : {0, 65535}) {
    const std::string path = dir.file("ch" + std::to_string(channels) + ".wav");
    test::write_bytes(
        path, wav_header(8000, channels, 16, static_cast<std::uint32_t>(tone.size())) + tone);
    const Error e = error_of([&] { load(path); });
    EXPECT_EQ(e.path(), path) << channels << ": " << e.what();
  }
}

TEST(HostileAudio, OneSampleManyChannelsAndHighRatesDecode) {
  test::TempDir dir;
  test::write_audio(dir.file("one.wav"), {0.25f}, 22050, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  const Spectrogram s = extract_logmel(dir.file("one.wav"), feature_default_params(), false);
  EXPECT_EQ(s.n_frames, 1366);
  const Spectrogram w = extract_logmel(dir.file("one.wav"), feature_default_params(), true);
  EXPECT_GE(w.n_frames, 1);

  std::vector<float> nine;
  for (float v : test::sine(440, 1.0, 48000))
    for (int c = 0; c < 9; ++c) nine.push_back(v);
  test::write_audio(dir.file("nine.wav"), nine, 48000, 9, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  EXPECT_EQ(load(dir.file("nine.wav")), 12000);

  test::write_audio(dir.file("hi.flac"), test::sine(1000, 2.0, 192000), 192000, 1,
                    SF_FORMAT_FLAC | SF_FORMAT_PCM_24);
  EXPECT_EQ(load(dir.file("hi.flac")), 24000);
}

TEST(HostileAudio, NanAndInfiniteSamplesAreRejected) {
  test::TempDir dir;
  for (float bad :
       {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    std::vector<float> x = test::sine(440, 1.0, 8000);
    x[4000] = bad;
    const std::string path = dir.file("bad.wav");
    test::write_audio(path, x, 8000, 1, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    const Error e = error_of([&] { load(path); });
    EXPECT_EQ(e.kind(), ErrorKind::kCorrupt);
    EXPECT_NE(std::string(e.what()).find("NaN"), std::string::npos) << e.what();
  }
}

// A FLAC STREAMINFO claiming 2^36-1 frames (the field's maximum) over a few bytes of audio:
// genre must fail fast, not allocate for the claim.
TEST(HostileAudio, HeaderClaimingHugeLengthFailsWithoutAllocating) {
  test::TempDir dir;
  const std::string path = dir.file("liar.flac");
  test::write_audio(path, test::noise(1.0, 8000, 5), 8000, 1, SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
  std::string bytes = read_bytes(path);
  // STREAMINFO starts at byte 8 (after "fLaC" and the block header); total samples is the low
  // 36 bits of bytes 8+13 .. 8+17.
  const std::size_t at = 8 + 13;
  bytes[at] = static_cast<char>(bytes[at] | 0x0f);
  for (int i = 1; i <= 4; ++i) bytes[at + i] = static_cast<char>(0xff);
  test::write_bytes(path, bytes);
  const Error e = error_of([&] { load_middle_excerpt(path, 12000, 349440); });
  EXPECT_EQ(e.path(), path) << e.what();
  const Error whole = error_of([&] { load(path); });
  EXPECT_EQ(whole.path(), path) << whole.what();
}

TEST(HostileAudio, DirectoriesMissingAndSpecialFiles) {
  test::TempDir dir;
  fs::create_directories(dir.file("folder.wav"));
  EXPECT_EQ(error_of([&] { load(dir.file("folder.wav")); }).kind(), ErrorKind::kUnreadable);
  EXPECT_EQ(error_of([&] { load(dir.file("missing.wav")); }).kind(), ErrorKind::kNotFound);
  fs::create_symlink("loop.wav", dir.file("loop.wav"));
  EXPECT_EQ(error_of([&] { load(dir.file("loop.wav")); }).kind(), ErrorKind::kUnreadable);
  const std::string long_name = dir.file(std::string(300, 'x') + ".wav");
  EXPECT_EQ(error_of([&] { load(long_name); }).path(), long_name);
}

}  // namespace
}  // namespace genre
