// Mel filterbanks: Slaney-style as librosa.filters.mel(htk=False, norm="slaney"), and HTK-style
// as torchaudio.functional.melscale_fbanks(mel_scale="htk", norm=None).
#include <algorithm>
#include <cmath>

#include "common/error.h"
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

std::vector<float> htk_mel_filterbank(const FeatureConfig& config) {
  const int n_bins = config.n_fft / 2 + 1;
  const int n_mels = config.n_mels;
  auto hz_to_mel = [](double hz) { return 2595.0 * std::log10(1.0 + hz / 700.0); };
  auto mel_to_hz = [](double mel) { return 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0); };
  // n_mels + 2 points evenly spaced on the mel scale; FFT bin k at k * (sr / 2) / (n_bins - 1).
  const double mel_lo = hz_to_mel(config.fmin), mel_hi = hz_to_mel(config.effective_fmax());
  std::vector<double> f_pts(n_mels + 2);
  for (int i = 0; i < n_mels + 2; ++i)
    f_pts[i] = mel_to_hz(mel_lo + (mel_hi - mel_lo) * i / (n_mels + 1));
  const double bin_hz = (config.sample_rate / 2) / static_cast<double>(n_bins - 1);
  std::vector<float> weights(static_cast<std::size_t>(n_mels) * n_bins, 0.0f);
  for (int m = 0; m < n_mels; ++m) {
    for (int k = 0; k < n_bins; ++k) {
      const double down = (k * bin_hz - f_pts[m]) / (f_pts[m + 1] - f_pts[m]);
      const double up = (f_pts[m + 2] - k * bin_hz) / (f_pts[m + 2] - f_pts[m + 1]);
      weights[static_cast<std::size_t>(m) * n_bins + k] =
          static_cast<float>(std::max(0.0, std::min(down, up)));
    }
  }
  return weights;
}

std::vector<float> mel_filterbank(const FeatureConfig& config) {
  if (config.mel_scale == "htk" && config.mel_norm == "none") return htk_mel_filterbank(config);
  if (config.mel_scale == "slaney" && config.mel_norm == "slaney")
    return slaney_mel_filterbank(config);
  throw Error(ErrorKind::kInvalidArgument, "",
              "feature config: mel_scale " + config.mel_scale + " with mel_norm " +
                  config.mel_norm + " is not implemented (slaney/slaney or htk/none)");
}

}  // namespace genre
