// Decoding: formats, channel mixing, and every kind of bad input.
#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>
#include <filesystem>
#include <random>

#include "audio/audio.h"
#include "common/error.h"
#include "features/features.h"
#include "support/test_support.h"

namespace genre {
namespace {

ErrorKind kind_of(const std::function<void()>& f) {
  return static_cast<ErrorKind>(test::error_kind_of(f));
}

TEST(Decode, WavPcmDepthsAndFloat) {
  test::TempDir dir;
  const auto y = test::sine(440, 0.5, 22050);
  for (int sub :
       {SF_FORMAT_PCM_U8, SF_FORMAT_PCM_16, SF_FORMAT_PCM_24, SF_FORMAT_PCM_32, SF_FORMAT_FLOAT}) {
    const std::string path = dir.file("t" + std::to_string(sub) + ".wav");
    test::write_audio(path, y, 22050, 1, SF_FORMAT_WAV | sub);
    int rate = 0;
    const auto got = decode_mono(path, &rate);
    EXPECT_EQ(rate, 22050);
    ASSERT_EQ(got.size(), y.size());
    const double tol = sub == SF_FORMAT_PCM_U8 ? 1.0 / 64 : 1e-4;
    for (std::size_t i = 0; i < y.size(); i += 97) EXPECT_NEAR(got[i], y[i], tol);
  }
}

TEST(Decode, OtherContainers) {
  test::TempDir dir;
  const auto y = test::sine(440, 1.0, 16000);
  const std::vector<std::pair<std::string, int>> formats = {
      {"a.au", SF_FORMAT_AU | SF_FORMAT_PCM_16},
      {"a.aiff", SF_FORMAT_AIFF | SF_FORMAT_PCM_16},
      {"a.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16},
      {"a.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS},
      {"a.opus", SF_FORMAT_OGG | SF_FORMAT_OPUS}};
  for (const auto& [name, format] : formats) {
    SCOPED_TRACE(name);
    test::write_audio(dir.file(name), y, 16000, 1, format);
    const auto got = load_mono(dir.file(name), 12000);
    EXPECT_NEAR(static_cast<double>(got.size()), 12000.0, 400.0);
    double energy = 0;
    for (float v : got) energy += v * v;
    EXPECT_NEAR(energy / got.size(), 0.125, 0.02);  // a 0.5-amplitude sine has power 0.125
  }
}

TEST(Decode, MixesChannelsByTheMean) {
  test::TempDir dir;
  const int channels = 6, frames = 1000;
  std::vector<float> inter(frames * channels);
  for (int i = 0; i < frames; ++i)
    for (int c = 0; c < channels; ++c) inter[i * channels + c] = 0.1f * c;
  test::write_audio(dir.file("six.wav"), inter, 8000, channels, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  int rate = 0;
  const auto mono = decode_mono(dir.file("six.wav"), &rate);
  ASSERT_EQ(mono.size(), 1000u);
  EXPECT_NEAR(mono[500], 0.25f, 1e-6);
}

TEST(Decode, SampleRatesFrom8kTo192k) {
  test::TempDir dir;
  for (int rate : {8000, 44100, 96000, 192000}) {
    const std::string path = dir.file("r" + std::to_string(rate) + ".wav");
    test::write_audio(path, test::sine(440, 0.5, rate), rate, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    const auto y = load_mono(path, 12000);
    EXPECT_EQ(y.size(), static_cast<std::size_t>(std::ceil(rate * 0.5 * (12000.0 / rate))));
    const Spectrogram s = extract_logmel(path, feature_default_params());
    EXPECT_EQ(s.n_frames, 1366);
  }
}

TEST(Decode, BadInputsGiveTypedErrors) {
  test::TempDir dir;
  EXPECT_EQ(kind_of([&] { decode_mono(dir.file("missing.wav"), nullptr); }), ErrorKind::kNotFound);

  test::write_bytes(dir.file("zero.wav"), "");
  EXPECT_EQ(kind_of([&] { decode_mono(dir.file("zero.wav"), nullptr); }), ErrorKind::kEmpty);

  std::string random_bytes(4096, '\0');
  std::mt19937 rng(1);
  for (auto& c : random_bytes) c = static_cast<char>(rng());
  test::write_bytes(dir.file("random.mp3"), random_bytes);
  const ErrorKind random_kind = kind_of([&] { decode_mono(dir.file("random.mp3"), nullptr); });
  EXPECT_TRUE(random_kind == ErrorKind::kNotAudio || random_kind == ErrorKind::kCorrupt);

  std::filesystem::create_directory(dir.file("folder.wav"));
  EXPECT_EQ(kind_of([&] { decode_mono(dir.file("folder.wav"), nullptr); }), ErrorKind::kUnreadable);

  test::write_bytes(dir.file("header.wav"), std::string("RIFF\x24\x00\x00\x00WAVEfmt ", 16));
  const ErrorKind header_kind = kind_of([&] { decode_mono(dir.file("header.wav"), nullptr); });
  EXPECT_TRUE(header_kind == ErrorKind::kCorrupt || header_kind == ErrorKind::kNotAudio);

  test::write_audio(dir.file("nosamples.wav"), {}, 22050, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  EXPECT_EQ(kind_of([&] { decode_mono(dir.file("nosamples.wav"), nullptr); }), ErrorKind::kEmpty);
}

// A file cut short is reported, never passed off as a whole track (issue 25): the error says how
// much of the declared audio is there.
TEST(Decode, TruncatedFileIsReportedWithWhatIsThere) {
  test::TempDir dir;
  test::write_audio(dir.file("full.wav"), test::sine(440, 1.0, 22050), 22050, 1,
                    SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  std::filesystem::copy_file(dir.file("full.wav"), dir.file("cut.wav"));
  std::filesystem::resize_file(dir.file("cut.wav"), 10000);
  try {
    decode_mono(dir.file("cut.wav"), nullptr);
    ADD_FAILURE() << "a truncated file must be an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kCorrupt);
    EXPECT_NE(std::string(e.what()).find("truncated: its header declares 44100 bytes"),
              std::string::npos)
        << e.what();
  }
}

TEST(Decode, OneSampleAndSilentFilesGiveFiniteFeatures) {
  test::TempDir dir;
  test::write_audio(dir.file("one.wav"), {0.5f}, 22050, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  test::write_audio(dir.file("silent.wav"), std::vector<float>(22050, 0.0f), 22050, 1,
                    SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  for (const char* name : {"one.wav", "silent.wav"}) {
    const Spectrogram s = extract_logmel(dir.file(name), feature_default_params());
    ASSERT_EQ(s.n_frames, 1366);
    for (float v : s.data) ASSERT_TRUE(std::isfinite(v)) << name;
  }
}

TEST(Decode, LongFileExcerptMatchesWholeDecode) {
  // A 5-minute file takes the bounded-memory path; it must agree with decoding everything.
  test::TempDir dir;
  auto y = test::noise(300.0, 22050, 3, 0.2f);
  const auto tone = test::sine(523.25, 300.0, 22050, 0.3f);
  for (std::size_t i = 0; i < y.size(); ++i) y[i] += tone[i];
  test::write_audio(dir.file("long.flac"), y, 22050, 1, SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
  const std::int64_t length = 349440;
  const auto windowed = load_middle_excerpt(dir.file("long.flac"), 12000, length);
  const auto whole = load_mono(dir.file("long.flac"), 12000);
  const auto start = middle_excerpt_start(whole.size(), length);
  ASSERT_EQ(windowed.size(), static_cast<std::size_t>(length));
  double worst = 0;
  for (std::int64_t i = 0; i < length; ++i)
    worst = std::max(worst, std::abs(static_cast<double>(windowed[i]) - whole[start + i]));
  EXPECT_LE(worst, 1e-5);
}

}  // namespace
}  // namespace genre
