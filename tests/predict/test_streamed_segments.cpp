// --segments over long files in bounded memory (predict/streamed_segments.h): the streamed log-mel
// and crop probabilities are identical, bit for bit, to the whole-track computation.
#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>
#include <iostream>
#include <random>
#include <utility>

#include "audio/audio.h"
#include "audio/resample_stream.h"
#include "features/features.h"
#include "features/logmel_stream.h"
#include "model/inference.h"
#include "model/model_file.h"
#include "predict/streamed_segments.h"
#include "support/test_support.h"

namespace genre {
namespace {

// A long stereo WAV: tones that change every few seconds over noise, quiet passages and a
// stretch of digital silence at the end (so the track's last "valid" frame is not its last).
// False when this libsndfile cannot write `format`.
bool write_long_audio(const std::string& path, int rate, int seconds, int silent_seconds,
                      int format) {
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = 2;
  info.format = format;
  if (!sf_format_check(&info)) return false;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  EXPECT_NE(f, nullptr) << sf_strerror(nullptr);
  if (!f) return false;
  std::mt19937 rng(7);
  std::normal_distribution<float> noise(0.0f, 0.02f);
  std::vector<float> block(2 * static_cast<std::size_t>(rate));
  for (int s = 0; s < seconds; ++s) {
    const bool silent = s >= seconds - silent_seconds;
    const float gain = silent ? 0.0f : (s % 9 == 4 ? 0.01f : 0.4f);
    const float freq = 110.0f * static_cast<float>(1 + s / 3 % 7);
    for (int i = 0; i < rate; ++i) {
      const float t = static_cast<float>(s) + static_cast<float>(i) / rate;
      const float v = silent ? 0.0f : gain * std::sin(6.2831853f * freq * t) + noise(rng);
      block[2 * i] = v;
      block[2 * i + 1] = 0.5f * v;
    }
    sf_writef_float(f, block.data(), rate);
  }
  sf_close(f);
  return true;
}

void write_long_wav(const std::string& path, int rate, int seconds, int silent_seconds) {
  write_long_audio(path, rate, seconds, silent_seconds, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
}

// Every streamed frame against logmel_whole (without top_db clipping, which the caller does).
void expect_stream_matches_whole(const std::string& path, FeatureConfig config) {
  config.top_db = 0;
  const Spectrogram whole = logmel_whole(load_mono(path, config.sample_rate), config);
  LogmelStream stream(path, config);
  ASSERT_EQ(stream.n_frames(), whole.n_frames);
  Spectrogram block;
  int first = 0, next = 0;
  std::size_t differing = 0;
  while (stream.next(block, &first)) {
    ASSERT_EQ(first, next);
    for (int m = 0; m < block.n_mels; ++m)
      for (int j = 0; j < block.n_frames; ++j)
        differing += block.at(m, j) != whole.at(m, first + j);
    next = first + block.n_frames;
  }
  EXPECT_EQ(next, whole.n_frames);
  EXPECT_EQ(differing, 0u) << "frames differ from the whole-track log-mel";
}

TEST(StreamedSegments, ResampleStreamIsTheWholeResample) {
  std::mt19937 rng(1);
  std::normal_distribution<float> noise;
  std::vector<float> x(44100 * 20);
  for (float& v : x) v = 0.2f * noise(rng);
  const std::vector<float> whole = resample(x, 44100, 12000);
  ResampleStream stream(44100, 12000, static_cast<std::int64_t>(x.size()));
  std::vector<float> out;
  for (std::size_t pos = 0; pos < x.size();) {  // uneven blocks
    const std::size_t n = std::min<std::size_t>(x.size() - pos, 1000 + rng() % 200000);
    stream.push(x.data() + pos, n, out);
    pos += n;
  }
  stream.finish(out);
  EXPECT_EQ(out, whole);
}

TEST(StreamedSegments, LogmelFramesAreTheWholeTracksBitForBit) {
  test::TempDir dir;
  write_long_wav(dir.file("long.wav"), 44100, 200, 10);
  expect_stream_matches_whole(dir.file("long.wav"), FeatureConfig{});  // 12 kHz, constant pad
  FeatureConfig sota;  // the pretrained taggers' front end: 16 kHz, reflect padding
  sota.sample_rate = 16000;
  sota.pad_mode = "reflect";
  expect_stream_matches_whole(dir.file("long.wav"), sota);
  write_long_wav(dir.file("12k.wav"), 12000, 100, 0);  // no resampling
  expect_stream_matches_whole(dir.file("12k.wav"), FeatureConfig{});
}

TEST(StreamedSegments, CropProbabilitiesAreTheWholeTracksBitForBit) {
  test::TempDir dir;
  const std::string path = dir.file("long.wav");
  write_long_wav(path, 22050, 300, 20);
  ModelInfo info;
  info.arch.channels = {4, 4, 8, 8, 8};
  info.arch.pools = {{2, 2}, {2, 2}, {2, 2}, {3, 1}, {4, 1}};
  info.arch.gru_hidden = 8;
  info.arch.input_frames = 96;
  info.classes = {"a", "b", "c"};
  info.arch.n_classes = 3;
  torch::manual_seed(3);
  Model model = make_model(info);
  model.net->eval();
  const int hop = 48, batch = 16;

  const Spectrogram whole = extract_logmel(path, info.features, true);
  std::vector<int> whole_offsets;
  const torch::Tensor expected =
      window_probabilities(model, whole, hop, batch, torch::kCPU, &whole_offsets);
  const StreamedCrops streamed = streamed_crop_probabilities(model, path, hop, batch, torch::kCPU);
  EXPECT_EQ(streamed.offsets, whole_offsets);
  EXPECT_EQ(streamed.valid_frames, signal_frames(whole));
  EXPECT_LT(streamed.valid_frames, whole.n_frames - 100);  // the silent tail is not counted
  ASSERT_EQ(streamed.probabilities.sizes(), expected.sizes());
  EXPECT_TRUE(torch::equal(streamed.probabilities, expected))
      << (streamed.probabilities - expected).abs().max().item<float>();
}

// MP3 and Ogg headers only estimate the length and their seeking is not sample-exact: they are
// read in order, after a pass that counts their frames, and stream bit for bit too.
TEST(StreamedSegments, Mp3AndOggStreamBitForBit) {
  test::TempDir dir;
  const std::pair<const char*, int> formats[] = {
      {"long.mp3", SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III},
      {"long.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS},
      {"long.opus", SF_FORMAT_OGG | SF_FORMAT_OPUS}};
  int streamed = 0;
  for (const auto& [name, format] : formats) {
    SCOPED_TRACE(name);
    // 100 s: several decoded chunks (2^20 frames) and two blocks of log-mel frames.
    if (!write_long_audio(dir.file(name), name == std::string("long.opus") ? 48000 : 44100, 100, 5,
                          format)) {
      std::cout << "[ SKIPPED  ] this libsndfile cannot write " << name << "\n";
      continue;
    }
    expect_stream_matches_whole(dir.file(name), FeatureConfig{});
    ++streamed;
  }
  EXPECT_GT(streamed, 0) << "libsndfile wrote none of MP3, Ogg Vorbis, Opus";
}

TEST(StreamedSegments, OnlyLongFilesStream) {
  test::TempDir dir;
  write_long_wav(dir.file("a.wav"), 8000, 30, 0);
  EXPECT_TRUE(should_stream_segments(dir.file("a.wav"), 20));
  EXPECT_FALSE(should_stream_segments(dir.file("a.wav"), 40));
  EXPECT_FALSE(should_stream_segments(dir.file("a.wav")));  // 10 minutes by default
}

}  // namespace
}  // namespace genre
