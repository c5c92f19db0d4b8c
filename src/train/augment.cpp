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

namespace {

float sample_beta(std::mt19937_64& rng, double alpha) {
  std::gamma_distribution<double> g(alpha, 1.0);
  const double a = g(rng), b = g(rng);
  return static_cast<float>(a + b > 0 ? a / (a + b) : 0.5);
}

}  // namespace

Batch make_batch(const std::vector<Example>& set, const std::vector<std::size_t>& ids, int length,
                 int n_classes, bool multi_label, const TrainParams& p, std::mt19937_64& rng) {
  const int n_mels = set[ids[0]].logmel->n_mels;
  const int64_t B = static_cast<int64_t>(ids.size());
  Batch batch;
  batch.x = torch::empty({B, 1, n_mels, length});
  batch.target = torch::zeros({B, n_classes});
  batch.primary = torch::empty({B}, torch::kLong);
  float* x = batch.x.data_ptr<float>();
  const std::size_t stride = static_cast<std::size_t>(n_mels) * length;
  for (int64_t b = 0; b < B; ++b) {
    const Example& e = set[ids[b]];
    const int total = e.logmel->n_frames;
    // Time stretch: read more or fewer frames than the crop holds (a log-uniform factor).
    int source = length;
    if (p.time_stretch > 0) {
      const double r = std::log1p(p.time_stretch);
      source =
          std::max(1, static_cast<int>(std::lround(
                          length * std::exp(std::uniform_real_distribution<double>(-r, r)(rng)))));
    }
    const float shift =
        p.freq_shift > 0 ? std::uniform_real_distribution<float>(-p.freq_shift, p.freq_shift)(rng)
                         : 0.0f;
    int offset = 0;
    if (source < total) {
      const int span = std::max(0, std::min(e.valid_frames, total) - source);
      offset = p.random_crop ? std::uniform_int_distribution<int>(0, span)(rng) : span / 2;
    }
    float* dst = x + b * stride;
    if (p.time_stretch > 0 || p.freq_shift > 0)
      copy_warped_crop(*e.logmel, offset, source, shift, length, dst);
    else
      copy_crop(*e.logmel, offset, length, dst);
    if (p.gain_db > 0) {
      const float g = std::uniform_real_distribution<float>(-p.gain_db, p.gain_db)(rng);
      for (std::size_t i = 0; i < stride; ++i) dst[i] += g;
    }
    if (p.freq_masks > 0 || p.time_masks > 0) {
      double mean = 0;
      for (std::size_t i = 0; i < stride; ++i) mean += dst[i];
      const float fill = static_cast<float>(mean / stride);
      for (int m = 0; m < p.freq_masks; ++m) {
        const int w = std::uniform_int_distribution<int>(0, p.freq_mask_width)(rng);
        const int s = std::uniform_int_distribution<int>(0, std::max(0, n_mels - w))(rng);
        for (int f = s; f < s + w && f < n_mels; ++f)
          std::fill(dst + f * length, dst + (f + 1) * length, fill);
      }
      for (int m = 0; m < p.time_masks; ++m) {
        const int w = std::uniform_int_distribution<int>(0, p.time_mask_width)(rng);
        const int s = std::uniform_int_distribution<int>(0, std::max(0, length - w))(rng);
        for (int f = 0; f < n_mels; ++f)
          for (int t = s; t < s + w && t < length; ++t) dst[f * length + t] = fill;
      }
    }
    for (int l : e.labels) batch.target[b][l] = multi_label ? 1.0f : 1.0f / e.labels.size();
    batch.primary[b] = e.labels.empty() ? 0 : e.labels[0];
  }
  if (p.mixup_alpha > 0 && B > 1) {
    const float lam = sample_beta(rng, p.mixup_alpha);
    std::vector<int64_t> perm(B);
    for (int64_t i = 0; i < B; ++i) perm[i] = i;
    std::shuffle(perm.begin(), perm.end(), rng);
    const torch::Tensor idx = torch::tensor(perm, torch::kLong);
    batch.x = lam * batch.x + (1 - lam) * batch.x.index_select(0, idx);
    batch.target = lam * batch.target + (1 - lam) * batch.target.index_select(0, idx);
  }
  return batch;
}

}  // namespace genre
