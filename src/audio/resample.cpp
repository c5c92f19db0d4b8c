// Resampling with libsoxr, configured as python-soxr does for librosa's "soxr_hq".
#include <soxr.h>

#include <cmath>

#include "audio/audio.h"
#include "common/error.h"

namespace genre {

std::vector<float> resample(const std::vector<float>& signal, int in_rate, int out_rate) {
  if (in_rate <= 0 || out_rate <= 0)
    throw Error(ErrorKind::kInvalidArgument, "", "sample rates must be positive");
  if (in_rate == out_rate || signal.empty()) return signal;

  // librosa: n_samples = ceil(n * ratio), then fix_length (pad with zeros or trim).
  const double ratio = static_cast<double>(out_rate) / in_rate;
  const std::size_t target = static_cast<std::size_t>(std::ceil(signal.size() * ratio));
  const std::size_t capacity = static_cast<std::size_t>(signal.size() * ratio) + 1;
  std::vector<float> out(std::max(capacity, target), 0.0f);

  const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
  const soxr_quality_spec_t quality = soxr_quality_spec(SOXR_HQ, 0);
  const soxr_runtime_spec_t runtime = soxr_runtime_spec(1);
  std::size_t produced = 0;
  const soxr_error_t err = soxr_oneshot(in_rate, out_rate, 1, signal.data(), signal.size(), nullptr,
                                        out.data(), capacity, &produced, &io, &quality, &runtime);
  if (err) throw Error(ErrorKind::kInvalidArgument, "", std::string("libsoxr: ") + err);
  out.resize(produced);
  out.resize(target, 0.0f);
  return out;
}

}  // namespace genre
