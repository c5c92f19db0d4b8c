#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "features/features.h"
#include "support/test_support.h"

namespace genre {
namespace {

TEST(MelFilterbank, ShapeAndSlaneyNormalisation) {
  const FeatureConfig c = feature_default_params();
  const auto fb = slaney_mel_filterbank(c);
  ASSERT_EQ(fb.size(), 96u * 257u);
  // Slaney area normalisation: each triangle's peak is 2 / (f_upper - f_lower), so the weights of a
  // band sum to about 1 / bin_width (23.4375 Hz) for bands wider than a few bins.
  double sum = 0;
  for (int k = 0; k < 257; ++k) sum += fb[95 * 257 + k];
  EXPECT_NEAR(sum * 12000.0 / 512, 1.0, 0.05);
  for (float w : fb) EXPECT_GE(w, 0.0f);
}

TEST(MelSpectrogram, FrameCountAndExcerptShape) {
  const FeatureConfig c = feature_default_params();
  EXPECT_EQ(c.excerpt_frames(), 1366);
  const auto y = test::sine(440, 40.0, 12000);
  const Spectrogram s = logmel_excerpt(y, c);
  EXPECT_EQ(s.n_mels, 96);
  EXPECT_EQ(s.n_frames, 1366);
  const Spectrogram w = logmel_whole(y, c);
  EXPECT_EQ(w.n_frames, 1 + static_cast<int>(y.size() / 256));
}

TEST(MelSpectrogram, ToneLandsInTheRightBand) {
  const FeatureConfig c = feature_default_params();
  const auto y = test::sine(1000, 2.0, 12000);
  const Spectrogram s = logmel_whole(y, c);
  int best = 0;
  for (int m = 1; m < s.n_mels; ++m)
    if (s.at(m, 40) > s.at(best, 40)) best = m;
  // 1 kHz is the Slaney break point: mel 15 of 0..~45 for fmax 6 kHz => band index ~ 31.
  const double mel_1k = 15.0, mel_max = 15.0 + std::log(6.0) / (std::log(6.4) / 27.0);
  EXPECT_NEAR(best, mel_1k / mel_max * 97 - 1, 2.0);
}

TEST(MelSpectrogram, SilenceGivesFiniteFloor) {
  const FeatureConfig c = feature_default_params();
  const Spectrogram s = logmel_excerpt(std::vector<float>(1000, 0.0f), c);
  for (float v : s.data) {
    ASSERT_TRUE(std::isfinite(v));
    EXPECT_FLOAT_EQ(v, -100.0f);  // 10*log10(amin)
  }
}

TEST(MelSpectrogram, TopDbClipsEightyBelowPeak) {
  const FeatureConfig c = feature_default_params();
  const Spectrogram s = logmel_whole(test::sine(300, 3.0, 12000, 0.9f), c);
  float lo = 1e9f, hi = -1e9f;
  for (float v : s.data) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  EXPECT_NEAR(hi - lo, 80.0f, 1e-3);
}

TEST(MelSpectrogram, ReflectPaddingDiffersOnlyAtTheEdges) {
  FeatureConfig reflect = feature_default_params();
  reflect.pad_mode = "reflect";
  const auto y = test::noise(3.0, 12000, 7);
  const Spectrogram a = logmel_whole(y, feature_default_params());
  const Spectrogram b = logmel_whole(y, reflect);
  ASSERT_EQ(a.n_frames, b.n_frames);
  EXPECT_NE(a.at(10, 0), b.at(10, 0));
  EXPECT_FLOAT_EQ(a.at(10, 50), b.at(10, 50));
}

TEST(FeatureConfig, JsonRoundTripAndValidation) {
  FeatureConfig c = feature_default_params();
  c.pad_mode = "reflect";
  c.db_multiplier = 20;
  const nlohmann::json j = c;
  EXPECT_EQ(j.get<FeatureConfig>(), c);
  EXPECT_EQ(j["fmax"], 6000.0);
  EXPECT_NE(feature_config_digest(c), feature_config_digest(feature_default_params()));
  nlohmann::json bad = j;
  bad["n_fft"] = 4;
  EXPECT_THROW(bad.get<FeatureConfig>(), Error);
  bad = j;
  bad["mel_scale"] = "htk";  // with Slaney's area normalisation: not implemented
  EXPECT_THROW(bad.get<FeatureConfig>(), Error);
  bad["mel_norm"] = "none";  // torchaudio's HTK filterbank (the sota taggers' front end)
  EXPECT_EQ(bad.get<FeatureConfig>().mel_scale, "htk");
  bad["mel_scale"] = "mfcc";
  EXPECT_THROW(bad.get<FeatureConfig>(), Error);
}

}  // namespace
}  // namespace genre
