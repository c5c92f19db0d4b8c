#include "train/augment.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "model/inference.h"

namespace genre {

void copy_warped_crop(const Spectrogram& s, int offset, int source_frames, float shift_bands,
                      int length, float* dst) {
  const int mels = s.n_mels;
  source_frames = std::max(1, source_frames);
  std::vector<float> source(static_cast<std::size_t>(mels) * source_frames);
  copy_crop(s, offset, source_frames, source.data());
  const float floor_value = s.data.empty() ? 0.0f : *std::min_element(s.data.begin(), s.data.end());

  // Where each output frame reads from: the first and last frames line up with the source's.
  std::vector<int> t0(length), t1(length);
  std::vector<float> tw(length);
  const double time_scale = length > 1 ? double(source_frames - 1) / (length - 1) : 0.0;
  for (int t = 0; t < length; ++t) {
    const double u = t * time_scale;
    t0[t] = std::min(source_frames - 1, static_cast<int>(std::floor(u)));
    t1[t] = std::min(source_frames - 1, t0[t] + 1);
    tw[t] = static_cast<float>(u - t0[t]);
  }
  std::vector<float> row(length);
  for (int m = 0; m < mels; ++m) {
    const double v = m - static_cast<double>(shift_bands);  // the source band this one reads
    const int m0 = static_cast<int>(std::floor(v));
    const float mw = static_cast<float>(v - m0);
    float* out = dst + static_cast<std::size_t>(m) * length;
    std::fill(out, out + length, 0.0f);
    for (int k = 0; k < 2; ++k) {
      const int band = m0 + k;
      const float weight = k == 0 ? 1.0f - mw : mw;
      if (weight == 0.0f) continue;
      if (band < 0 || band >= mels) {
        for (int t = 0; t < length; ++t) out[t] += weight * floor_value;
        continue;
      }
      const float* in = &source[static_cast<std::size_t>(band) * source_frames];
      for (int t = 0; t < length; ++t) row[t] = in[t0[t]] + tw[t] * (in[t1[t]] - in[t0[t]]);
      for (int t = 0; t < length; ++t) out[t] += weight * row[t];
    }
  }
}

}  // namespace genre
