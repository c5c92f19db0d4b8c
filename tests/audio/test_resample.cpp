#include <gtest/gtest.h>
#include <soxr.h>

#include <cmath>
#include <cstring>

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

// resample() feeds soxr in blocks; soxr_oneshot (the whole signal in one call, as python-soxr and
// so librosa do) must give the same samples to the bit, for lengths around the block size too.
TEST(Resample, BlocksGiveOneShotsSamplesToTheBit) {
  const std::pair<int, int> rates[] = {
      {22050, 12000}, {44100, 16000}, {48000, 12000}, {8000, 12000}};
  for (const auto& [in_rate, out_rate] : rates) {
    for (std::size_t n : {100u, 16383u, 16385u, 200000u}) {
      const auto x = test::noise(static_cast<double>(n) / in_rate, in_rate, 7);
      const std::vector<float> ours = resample(x, in_rate, out_rate);
      const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
      const soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
      const soxr_runtime_spec_t rt = soxr_runtime_spec(1);
      std::vector<float> ref(ours.size() + 1, 0.0f);
      std::size_t done = 0;
      ASSERT_EQ(soxr_oneshot(in_rate, out_rate, 1, x.data(), x.size(), nullptr, ref.data(),
                             ref.size(), &done, &io, &q, &rt),
                nullptr);
      ref.resize(ours.size(), 0.0f);  // librosa's length: trimmed or zero-padded
      ASSERT_EQ(ours.size(), ref.size());
      EXPECT_EQ(std::memcmp(ours.data(), ref.data(), ours.size() * sizeof(float)), 0)
          << in_rate << " -> " << out_rate << ", " << x.size() << " samples";
    }
  }
}

}  // namespace
}  // namespace genre
