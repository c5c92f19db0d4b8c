// From a file or a signal to the log-mel matrix a model consumes.
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

Spectrogram extract_logmel(const std::string& path, const FeatureConfig& config, bool whole,
                           int* valid_frames) {
  config.validate();
  if (whole) {
    Spectrogram s = logmel_whole(load_mono(path, config.sample_rate), config);
    if (valid_frames) *valid_frames = s.n_frames;
    return s;
  }
  std::int64_t total = 0;
  Spectrogram s = logmel_whole(
      load_middle_excerpt(path, config.sample_rate, config.excerpt_samples, &total), config);
  // Frames whose centre lies inside the signal (the rest only see the zero padding).
  const std::int64_t n = std::min<std::int64_t>(total, config.excerpt_samples);
  if (valid_frames)
    *valid_frames = std::min<int>(s.n_frames, 1 + static_cast<int>(std::max<std::int64_t>(0, n - 1) / config.hop_length));
  return s;
}

}  // namespace genre
