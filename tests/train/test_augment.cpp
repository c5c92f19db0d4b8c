// Tempo and pitch augmentation: exact values on small ramps.
#include <gtest/gtest.h>

#include "model/inference.h"
#include "train/augment.h"

namespace genre {
namespace {

// value = 100 * band + frame, so every cell says where it came from.
Spectrogram ramp(int mels, int frames) {
  Spectrogram s;
  s.n_mels = mels;
  s.n_frames = frames;
  s.data.resize(static_cast<std::size_t>(mels) * frames);
  for (int m = 0; m < mels; ++m)
    for (int t = 0; t < frames; ++t) s.data[m * frames + t] = 100.0f * m + t;
  return s;
}

TEST(WarpedCrop, NoWarpIsThePlainCrop) {
  const Spectrogram s = ramp(6, 40);
  std::vector<float> plain(6 * 10), warped(6 * 10);
  copy_crop(s, 7, 10, plain.data());
  copy_warped_crop(s, 7, 10, 0.0f, 10, warped.data());
  EXPECT_EQ(plain, warped);
}

TEST(WarpedCrop, WholeBandShiftsMoveRowsAndPadWithTheMinimum) {
  const Spectrogram s = ramp(6, 20);
  std::vector<float> up(6 * 8), down(6 * 8);
  copy_warped_crop(s, 3, 8, 2.0f, 8, up.data());
  copy_warped_crop(s, 3, 8, -1.0f, 8, down.data());
  for (int t = 0; t < 8; ++t) {
    EXPECT_FLOAT_EQ(up[0 * 8 + t], 0.0f);  // below the lowest band: the minimum (s[0][0])
    EXPECT_FLOAT_EQ(up[1 * 8 + t], 0.0f);
    EXPECT_FLOAT_EQ(up[4 * 8 + t], 100.0f * 2 + 3 + t);    // band 4 shows band 2
    EXPECT_FLOAT_EQ(down[2 * 8 + t], 100.0f * 3 + 3 + t);  // band 2 shows band 3
    EXPECT_FLOAT_EQ(down[5 * 8 + t], 0.0f);                // above the top band
  }
}

TEST(WarpedCrop, HalfBandShiftAveragesNeighbours) {
  const Spectrogram s = ramp(4, 10);
  std::vector<float> out(4 * 5);
  copy_warped_crop(s, 0, 5, 0.5f, 5, out.data());
  EXPECT_FLOAT_EQ(out[2 * 5 + 1], 0.5f * (100 * 1 + 1) + 0.5f * (100 * 2 + 1));
}

TEST(WarpedCrop, TimeStretchReadsEveryOtherFrameAtDoubleRate) {
  const Spectrogram s = ramp(3, 50);
  std::vector<float> fast(3 * 10), slow(3 * 10);
  copy_warped_crop(s, 5, 19, 0.0f, 10, fast.data());  // 19 frames into 10: frames 5, 7, ..., 23
  copy_warped_crop(s, 5, 5, 0.0f, 9, slow.data());    // 5 frames into 9: half-frame steps
  for (int t = 0; t < 10; ++t) EXPECT_FLOAT_EQ(fast[1 * 10 + t], 100.0f + 5 + 2 * t);
  for (int t = 0; t < 9; ++t) EXPECT_FLOAT_EQ(slow[2 * 9 + t], 200.0f + 5 + 0.5f * t);
}

}  // namespace
}  // namespace genre
