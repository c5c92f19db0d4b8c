// genre/features: the parameters of the log-mel front end, in one struct that travels with models.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>

namespace genre {

struct FeatureConfig {
  int sample_rate = 12000;
  int n_fft = 512;
  int hop_length = 256;
  int n_mels = 96;
  double fmin = 0.0;
  double fmax = 0.0;  // 0 means sample_rate / 2
  // STFT padding with center=True: "constant" (librosa >= 0.10) or "reflect" (librosa < 0.10).
  std::string pad_mode = "constant";
  // Mel filterbank: "slaney" scale with "slaney" area normalisation (librosa's default), or the
  // "htk" scale with norm "none" (torchaudio's default, the front end of the sota taggers).
  std::string mel_scale = "slaney";
  std::string mel_norm = "slaney";
  // dB scale: db_multiplier * log10(max(amin, mel_power^(db_multiplier/10)) ...). 10 is
  // librosa.power_to_db; 20 is dB of the squared mel power, the recipe of Choi's 2016 models.
  double db_multiplier = 10.0;
  double amin = 1e-10;
  double top_db = 80.0;  // <= 0 disables the clipping
  // Excerpt: the middle `excerpt_samples` of the resampled signal, zero-padded at the end.
  std::int64_t excerpt_samples = 349440;  // 29.12 s at 12 kHz -> 1366 frames

  double effective_fmax() const { return fmax > 0 ? fmax : sample_rate / 2.0; }
  // Frames of an excerpt (center=True): 1 + excerpt_samples / hop_length.
  int excerpt_frames() const { return 1 + static_cast<int>(excerpt_samples / hop_length); }
  int frames_for_samples(std::int64_t n) const { return 1 + static_cast<int>(n / hop_length); }
  double seconds_per_frame() const { return static_cast<double>(hop_length) / sample_rate; }

  // Throws genre::Error(kInvalidArgument) when a value is out of range.
  void validate() const;
  bool operator==(const FeatureConfig& o) const;
  bool operator!=(const FeatureConfig& o) const { return !(*this == o); }
};

// The librosa-compatible defaults: 12 kHz, n_fft 512, hop 256, 96 Slaney mels, power_to_db.
FeatureConfig feature_default_params();

void to_json(nlohmann::json& j, const FeatureConfig& c);
void from_json(const nlohmann::json& j, FeatureConfig& c);

// A short stable hash of the configuration (cache keys).
std::string feature_config_digest(const FeatureConfig& c);

}  // namespace genre
