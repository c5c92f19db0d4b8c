// From a file or a signal to the log-mel matrix a model consumes.
#include <algorithm>

#include "audio/audio.h"
#include "features/features.h"

namespace genre {

Spectrogram logmel_whole(const std::vector<float>& signal, const FeatureConfig& config) {
  const MelSpectrogram& mel = mel_spectrogram_for(config);
  Spectrogram s = mel.mel_power(signal.data(), signal.size());
  mel.power_to_db(s);
  return s;
}

Spectrogram logmel_excerpt(const std::vector<float>& signal, const FeatureConfig& config) {
  const std::int64_t length = config.excerpt_samples;
  std::vector<float> excerpt(static_cast<std::size_t>(length), 0.0f);
  const std::int64_t start = middle_excerpt_start(static_cast<std::int64_t>(signal.size()), length);
  const std::int64_t n = std::min<std::int64_t>(length, static_cast<std::int64_t>(signal.size()));
  std::copy(signal.begin() + start, signal.begin() + start + n, excerpt.begin());
  return logmel_whole(excerpt, config);
}

int signal_frames(const Spectrogram& s) {
  if (s.data.empty()) return s.n_frames;
  const float floor_value = *std::min_element(s.data.begin(), s.data.end());
  for (int t = s.n_frames - 1; t >= 0; --t)
    for (int m = 0; m < s.n_mels; ++m)
      if (s.at(m, t) > floor_value) return t + 1;
  return s.n_frames;
}

Spectrogram extract_logmel(const std::string& path, const FeatureConfig& config, bool whole,
                           int* valid_frames) {
  config.validate();
  Spectrogram s =
      whole ? logmel_whole(load_mono(path, config.sample_rate), config)
            : logmel_whole(load_middle_excerpt(path, config.sample_rate, config.excerpt_samples),
                           config);
  if (valid_frames) *valid_frames = signal_frames(s);
  return s;
}

}  // namespace genre
