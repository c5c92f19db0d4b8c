// genre/features: librosa-identical mel spectrograms and log-mel excerpts.
//
//   signal (12 kHz mono) -> STFT (periodic Hann, center, FFTW) -> |X|^2 -> Slaney mel -> dB
//   (other recipes, e.g. the 16 kHz HTK-mel front end of the sota taggers, are FeatureConfigs)
//
// Matches librosa.feature.melspectrogram(y, sr, n_fft, hop_length, n_mels) followed by
// librosa.power_to_db(S, ref=1.0, amin=1e-10, top_db=80) with librosa 0.10's defaults.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "feature_config.h"

namespace genre {

// A [n_mels x n_frames] matrix, row-major (the layout of librosa's output and of the .npy files).
struct Spectrogram {
  int n_mels = 0;
  int n_frames = 0;
  std::vector<float> data;

  float& at(int mel, int frame) { return data[static_cast<std::size_t>(mel) * n_frames + frame]; }
  float at(int mel, int frame) const {
    return data[static_cast<std::size_t>(mel) * n_frames + frame];
  }
};

// librosa.filters.mel(sr, n_fft, n_mels, fmin, fmax, htk=False, norm="slaney"), float32,
// row-major [n_mels][n_fft/2+1].
std::vector<float> slaney_mel_filterbank(const FeatureConfig& config);
// torchaudio.functional.melscale_fbanks(mel_scale="htk", norm=None) in the same
// [n_mels][n_fft/2+1] layout. Computed in double: torchaudio's float32 results differ between
// its versions by ~1e-5 (the sota taggers' stored matrix is within 1.1e-5 of this one).
std::vector<float> htk_mel_filterbank(const FeatureConfig& config);
// The filterbank config.mel_scale / config.mel_norm ask for.
std::vector<float> mel_filterbank(const FeatureConfig& config);

// Computes mel power spectrograms for one configuration. Construct once, share across threads:
// the FFTW plan is made in the constructor and only executed afterwards.
class MelSpectrogram {
 public:
  explicit MelSpectrogram(const FeatureConfig& config);
  ~MelSpectrogram();
  MelSpectrogram(const MelSpectrogram&) = delete;
  MelSpectrogram& operator=(const MelSpectrogram&) = delete;

  // Mel power of a signal at config.sample_rate: 1 + n / hop frames.
  Spectrogram mel_power(const float* signal, std::size_t n) const;
  // power_to_db in place (db_multiplier, amin, ref 1, top_db).
  void power_to_db(Spectrogram& mel) const;

  const FeatureConfig& config() const { return config_; }

 private:
  struct Impl;
  FeatureConfig config_;
  std::unique_ptr<Impl> impl_;
};

// A process-wide MelSpectrogram for `config` (created on first use, thread-safe).
const MelSpectrogram& mel_spectrogram_for(const FeatureConfig& config);

// Log-mel of a 12 kHz signal's middle excerpt: exactly config.excerpt_frames() frames.
Spectrogram logmel_excerpt(const std::vector<float>& signal, const FeatureConfig& config);
// Log-mel of a whole signal: 1 + n / hop frames.
Spectrogram logmel_whole(const std::vector<float>& signal, const FeatureConfig& config);

// Frames up to the last one with any bin above the spectrogram's floor (its minimum): trailing
// frames that only saw zero padding or digital silence do not count. All-floor input: all frames.
// Audio and .npy inputs both use this, so the same spectrogram always gets the same crops.
int signal_frames(const Spectrogram& s);

// Decode + resample + log-mel of an audio file. whole=false: the middle excerpt (bounded memory).
// `valid_frames` (optional) receives signal_frames() of the result.
Spectrogram extract_logmel(const std::string& path, const FeatureConfig& config, bool whole = false,
                           int* valid_frames = nullptr);

}  // namespace genre
