#include "features/feature_config.h"

#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>

#include "common/error.h"

namespace genre {

FeatureConfig feature_default_params() { return FeatureConfig{}; }

void FeatureConfig::validate() const {
  auto fail = [](const std::string& what) {
    throw Error(ErrorKind::kInvalidArgument, "", "feature config: " + what);
  };
  if (sample_rate < 1000 || sample_rate > 192000) fail("sample_rate must be in 1000..192000");
  if (n_fft < 16 || n_fft > 65536) fail("n_fft must be in 16..65536");
  if (hop_length < 1 || hop_length > n_fft) fail("hop_length must be in 1..n_fft");
  if (n_mels < 1 || n_mels > n_fft / 2 + 1) fail("n_mels must be in 1..n_fft/2+1");
  if (fmin < 0 || effective_fmax() <= fmin || effective_fmax() > sample_rate / 2.0)
    fail("need 0 <= fmin < fmax <= sample_rate/2");
  if (pad_mode != "constant" && pad_mode != "reflect") fail("pad_mode must be constant or reflect");
  if (mel_scale != "slaney" && mel_scale != "htk") fail("mel_scale must be slaney or htk");
  if (mel_norm != "slaney" && mel_norm != "none") fail("mel_norm must be slaney or none");
  if ((mel_scale == "slaney") != (mel_norm == "slaney"))
    fail("mel_scale/mel_norm must be slaney/slaney (librosa) or htk/none (torchaudio)");
  if (db_multiplier != 10.0 && db_multiplier != 20.0) fail("db_multiplier must be 10 or 20");
  if (!(amin > 0)) fail("amin must be positive");
  if (excerpt_samples < n_fft) fail("excerpt_samples must be at least n_fft");
  // An hour at the highest rate: a model file's config must not size a huge excerpt buffer.
  if (excerpt_samples > std::int64_t{192000} * 3600)
    fail("excerpt_samples must be at most an hour");
}

bool FeatureConfig::operator==(const FeatureConfig& o) const {
  return sample_rate == o.sample_rate && n_fft == o.n_fft && hop_length == o.hop_length &&
         n_mels == o.n_mels && fmin == o.fmin && effective_fmax() == o.effective_fmax() &&
         pad_mode == o.pad_mode && mel_scale == o.mel_scale && mel_norm == o.mel_norm &&
         db_multiplier == o.db_multiplier && amin == o.amin && top_db == o.top_db &&
         excerpt_samples == o.excerpt_samples;
}

void to_json(nlohmann::json& j, const FeatureConfig& c) {
  j = nlohmann::json{{"sample_rate", c.sample_rate},
                     {"n_fft", c.n_fft},
                     {"hop_length", c.hop_length},
                     {"n_mels", c.n_mels},
                     {"fmin", c.fmin},
                     {"fmax", c.effective_fmax()},
                     {"window", "hann"},
                     {"center", true},
                     {"pad_mode", c.pad_mode},
                     {"power", 2.0},
                     {"mel_scale", c.mel_scale},
                     {"mel_norm", c.mel_norm},
                     {"db_multiplier", c.db_multiplier},
                     {"amin", c.amin},
                     {"top_db", c.top_db},
                     {"ref", 1.0},
                     {"excerpt_samples", c.excerpt_samples},
                     {"mono", "mean"},
                     {"resampler", "soxr_hq"}};
}

void from_json(const nlohmann::json& j, FeatureConfig& c) {
  FeatureConfig d;
  c.sample_rate = j.value("sample_rate", d.sample_rate);
  c.n_fft = j.value("n_fft", d.n_fft);
  c.hop_length = j.value("hop_length", d.hop_length);
  c.n_mels = j.value("n_mels", d.n_mels);
  c.fmin = j.value("fmin", d.fmin);
  c.fmax = j.value("fmax", d.fmax);
  c.pad_mode = j.value("pad_mode", d.pad_mode);
  c.mel_scale = j.value("mel_scale", d.mel_scale);
  c.mel_norm = j.value("mel_norm", d.mel_norm);
  c.db_multiplier = j.value("db_multiplier", d.db_multiplier);
  c.amin = j.value("amin", d.amin);
  c.top_db = j.value("top_db", d.top_db);
  c.excerpt_samples = j.value("excerpt_samples", d.excerpt_samples);
  // Settings genre does not implement must not be silently ignored.
  if (j.value("window", std::string("hann")) != "hann" || !j.value("center", true) ||
      j.value("power", 2.0) != 2.0 || j.value("ref", 1.0) != 1.0)
    throw Error(ErrorKind::kInvalidArgument, "",
                "feature config asks for a window/scale/norm that genre does not implement");
  c.validate();
}

std::string feature_config_digest(const FeatureConfig& c) {
  const std::string text = nlohmann::json(c).dump();
  // FNV-1a 64: stable across runs and platforms (std::hash is not).
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char ch : text) {
    h ^= ch;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace genre
