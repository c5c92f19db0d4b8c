// Parity with librosa 0.10.2: ../shared/reference holds librosa's outputs for real files.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "audio/audio.h"
#include "features/features.h"
#include "support/test_support.h"

namespace genre {
namespace {

std::vector<float> read_f32(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  EXPECT_TRUE(in) << path;
  std::vector<float> v(static_cast<std::size_t>(in.tellg()) / 4);
  in.seekg(0);
  in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * 4));
  return v;
}

struct Reference {
  std::string audio_path, y12k, mel, logmel;
};

std::vector<Reference> references() {
  std::vector<Reference> refs;
  const std::string shared = test::shared_dir();
  if (shared.empty()) return refs;
  std::ifstream in(shared + "/reference/index.json");
  const auto index = nlohmann::json::parse(in);
  for (const auto& f : index["files"]) {
    const std::string source = f["source"];
    std::string audio = shared + "/audio/" + source;
    if (!std::ifstream(audio)) audio = shared + "/audio/formats/" + source;
    if (!std::ifstream(audio)) {
      const std::string genre = source.substr(0, source.find('.'));
      audio = shared + "/gtzan/" + genre + "/" + source;
    }
    refs.push_back({audio, shared + "/reference/" + f["y12k"]["file"].get<std::string>(),
                    shared + "/reference/" + f["mel"]["file"].get<std::string>(),
                    shared + "/reference/" + f["logmel"]["file"].get<std::string>()});
  }
  return refs;
}

// Worst differences over all files, printed at the end for the record.
struct Worst {
  double signal = 0, logmel = 0, mel_rel = 0;
};
Worst& worst() {
  static Worst w;
  return w;
}

TEST(Parity, EveryReferenceFileMatchesLibrosa) {
  GENRE_REQUIRE_SHARED();
  const auto refs = references();
  ASSERT_GE(refs.size(), 10u);
  const FeatureConfig config = feature_default_params();
  for (const auto& ref : refs) {
    SCOPED_TRACE(ref.audio_path);
    ASSERT_TRUE(std::ifstream(ref.audio_path).good()) << "reference source missing";

    // 12 kHz signal: max abs difference <= 1e-5.
    const std::vector<float> y = load_mono(ref.audio_path, 12000);
    const std::vector<float> y_ref = read_f32(ref.y12k);
    ASSERT_EQ(y.size(), y_ref.size());
    double max_signal = 0;
    for (std::size_t i = 0; i < y.size(); ++i)
      max_signal = std::max(max_signal, std::abs(static_cast<double>(y[i]) - y_ref[i]));
    EXPECT_LE(max_signal, 1e-5);

    // Mel power: relative difference <= 1e-4 where power > 1e-6 * max.
    const MelSpectrogram& mel = mel_spectrogram_for(config);
    std::vector<float> excerpt(config.excerpt_samples, 0.0f);
    const auto start = middle_excerpt_start(y_ref.size(), config.excerpt_samples);
    std::copy(y.begin() + start,
              y.begin() + start + std::min<std::int64_t>(y.size(), config.excerpt_samples),
              excerpt.begin());
    Spectrogram power = mel.mel_power(excerpt.data(), excerpt.size());
    const std::vector<float> mel_ref = read_f32(ref.mel);
    ASSERT_EQ(power.data.size(), mel_ref.size());
    ASSERT_EQ(power.n_frames, 1366);
    double peak = 0, max_rel = 0;
    for (float v : mel_ref) peak = std::max<double>(peak, v);
    for (std::size_t i = 0; i < mel_ref.size(); ++i)
      if (mel_ref[i] > 1e-6 * peak)
        max_rel = std::max(max_rel,
                           std::abs(static_cast<double>(power.data[i]) - mel_ref[i]) / mel_ref[i]);
    EXPECT_LE(max_rel, 1e-4);

    // Log-mel from the file (the excerpt path the CLI uses): max abs difference <= 0.01 dB.
    const Spectrogram logmel = extract_logmel(ref.audio_path, config);
    const std::vector<float> logmel_ref = read_f32(ref.logmel);
    ASSERT_EQ(logmel.data.size(), logmel_ref.size());
    double max_db = 0;
    for (std::size_t i = 0; i < logmel_ref.size(); ++i)
      max_db = std::max(max_db, std::abs(static_cast<double>(logmel.data[i]) - logmel_ref[i]));
    EXPECT_LE(max_db, 0.01);

    worst().signal = std::max(worst().signal, max_signal);
    worst().mel_rel = std::max(worst().mel_rel, max_rel);
    worst().logmel = std::max(worst().logmel, max_db);
    std::printf("parity %-48s signal %.3g  mel_rel %.3g  logmel %.3g dB\n",
                ref.audio_path.substr(ref.audio_path.rfind('/') + 1).c_str(), max_signal, max_rel,
                max_db);
  }
  std::printf("parity worst: signal %.3g  mel_rel %.3g  logmel %.3g dB over %zu files\n",
              worst().signal, worst().mel_rel, worst().logmel, refs.size());
}

}  // namespace
}  // namespace genre
