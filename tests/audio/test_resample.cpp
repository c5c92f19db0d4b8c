#include <gtest/gtest.h>

#include <cmath>

#include "audio/audio.h"
#include "support/test_support.h"

namespace genre {
namespace {

TEST(Resample, LengthIsCeilLikeLibrosa) {
  // librosa: ratio = target / orig; n_out = ceil(n * ratio). The float ratio makes exact
  // multiples round up by one (147 * (12000/22050) = 80.00000000000001 -> 81), as librosa does.
  const double ratio = 12000.0 / 22050;
  for (std::size_t n : {1u, 2u, 147u, 22050u, 661794u}) {
    const std::vector<float> x(n, 0.1f);
    EXPECT_EQ(resample(x, 22050, 12000).size(), static_cast<std::size_t>(std::ceil(n * ratio)));
  }
  EXPECT_EQ(resample(std::vector<float>(147, 0.1f), 22050, 12000).size(), 81u);
}

TEST(Resample, SameRateIsIdentity) {
  const auto x = test::noise(0.1, 12000, 5);
  EXPECT_EQ(resample(x, 12000, 12000), x);
}

TEST(Resample, PreservesInBandToneAndRemovesAliases) {
  const auto in_band = resample(test::sine(1000, 1.0, 44100), 44100, 12000);
  const auto above = resample(test::sine(9000, 1.0, 44100), 44100, 12000);
  double p_in = 0, p_above = 0;
  for (std::size_t i = 1000; i < 11000; ++i) {
    p_in += in_band[i] * in_band[i];
    p_above += above[i] * above[i];
  }
  EXPECT_NEAR(p_in / 10000, 0.125, 0.005);
  EXPECT_LT(p_above / 10000, 1e-8);  // 9 kHz is above the new Nyquist (6 kHz)
}

}  // namespace
}  // namespace genre
