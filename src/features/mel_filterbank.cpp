// Slaney-style mel filterbank, as librosa.filters.mel(htk=False, norm="slaney").
#include <cmath>

#include "features/features.h"

namespace genre {

namespace {

// Slaney's auditory toolbox scale: linear below 1 kHz, logarithmic above.
constexpr double kFSp = 200.0 / 3.0;
constexpr double kMinLogHz = 1000.0;
constexpr double kMinLogMel = kMinLogHz / kFSp;
const double kLogStep = std::log(6.4) / 27.0;

double hz_to_mel(double hz) {
  return hz >= kMinLogHz ? kMinLogMel + std::log(hz / kMinLogHz) / kLogStep : hz / kFSp;
}

double mel_to_hz(double mel) {
  return mel >= kMinLogMel ? kMinLogHz * std::exp(kLogStep * (mel - kMinLogMel)) : kFSp * mel;
}

}  // namespace

std::vector<float> slaney_mel_filterbank(const FeatureConfig& config) {
  const int n_bins = config.n_fft / 2 + 1;
  const int n_mels = config.n_mels;
  std::vector<double> fft_freqs(n_bins);
  for (int k = 0; k < n_bins; ++k)
    fft_freqs[k] = static_cast<double>(k) * config.sample_rate / config.n_fft;

  // n_mels + 2 points evenly spaced on the mel scale (np.linspace semantics).
  const double mel_lo = hz_to_mel(config.fmin), mel_hi = hz_to_mel(config.effective_fmax());
  const int n_points = n_mels + 2;
  std::vector<double> mel_f(n_points);
  const double step = (mel_hi - mel_lo) / (n_points - 1);
  for (int i = 0; i < n_points; ++i)
    mel_f[i] = mel_to_hz(i == n_points - 1 ? mel_hi : mel_lo + i * step);

  std::vector<float> weights(static_cast<std::size_t>(n_mels) * n_bins, 0.0f);
  for (int m = 0; m < n_mels; ++m) {
    const double lower_width = mel_f[m + 1] - mel_f[m];
    const double upper_width = mel_f[m + 2] - mel_f[m + 1];
    const double enorm = 2.0 / (mel_f[m + 2] - mel_f[m]);
    for (int k = 0; k < n_bins; ++k) {
      const double lower = -(mel_f[m] - fft_freqs[k]) / lower_width;
      const double upper = (mel_f[m + 2] - fft_freqs[k]) / upper_width;
      const double w = std::max(0.0, std::min(lower, upper));
      // librosa stores the weights as float32, then scales them by the float64 norm in place.
      weights[static_cast<std::size_t>(m) * n_bins + k] =
          static_cast<float>(static_cast<double>(static_cast<float>(w)) * enorm);
    }
  }
  return weights;
}

}  // namespace genre
