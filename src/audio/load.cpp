// librosa.load equivalents: whole signals and bounded-memory middle excerpts.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

#include "audio/audio.h"
#include "common/error.h"

namespace genre {

std::vector<float> load_mono(const std::string& path, int rate) {
  int file_rate = 0;
  std::vector<float> mono = decode_mono(path, &file_rate);
  return resample(mono, file_rate, rate);
}

std::int64_t middle_excerpt_start(std::int64_t total, std::int64_t length) {
  return total > length ? (total - length) / 2 : 0;
}

namespace {

// Files shorter than this are decoded whole; the windowed path only pays off for long inputs.
constexpr double kWindowedAboveSeconds = 240.0;
// Context decoded on each side of the excerpt so the resampler's filter sees real signal.
constexpr double kMarginSeconds = 1.0;

// In place: the excerpt is moved to the front of the signal (no second buffer per track).
std::vector<float> crop_or_pad(std::vector<float> y, std::int64_t start, std::int64_t length) {
  const std::int64_t n = std::max<std::int64_t>(
      0, std::min<std::int64_t>(length, static_cast<std::int64_t>(y.size()) - start));
  if (n > 0 && start > 0) std::copy(y.begin() + start, y.begin() + start + n, y.begin());
  y.resize(static_cast<std::size_t>(n));
  y.resize(static_cast<std::size_t>(length), 0.0f);
  return y;
}

}  // namespace

std::vector<float> load_middle_excerpt(const std::string& path, int rate, std::int64_t length,
                                       std::int64_t* total_length) {
  const AudioInfo info = probe_audio(path);
  const bool exact_length_known = info.format != "mp3" && info.frames > 0;
  if (!exact_length_known || info.frames < kWindowedAboveSeconds * info.sample_rate) {
    std::vector<float> y = load_mono(path, rate);
    const std::int64_t total = static_cast<std::int64_t>(y.size());
    if (total_length) *total_length = total;
    return crop_or_pad(std::move(y), middle_excerpt_start(total, length), length);
  }

  // Work in units of the rates' common period, so the decoded window starts on an input sample
  // that maps exactly onto an output sample: the resampled window then lines up with the
  // resampled whole file.
  const std::int64_t g = std::gcd<std::int64_t>(info.sample_rate, rate);
  const std::int64_t in_step = info.sample_rate / g, out_step = rate / g;
  const std::int64_t total_out = static_cast<std::int64_t>(
      std::ceil(info.frames * (static_cast<double>(rate) / info.sample_rate)));
  const std::int64_t start = middle_excerpt_start(total_out, length);
  if (total_length) *total_length = total_out;
  const std::int64_t margin = static_cast<std::int64_t>(kMarginSeconds * rate);
  const std::int64_t first_out = std::max<std::int64_t>(0, start - margin) / out_step * out_step;
  const std::int64_t first_in = first_out / out_step * in_step;
  const std::int64_t want_out = start + length + margin - first_out;
  const std::int64_t want_in = want_out * in_step / out_step + in_step;

  int file_rate = 0;
  const std::vector<float> window = decode_mono(path, &file_rate, first_in, want_in);
  return crop_or_pad(resample(window, file_rate, rate), start - first_out, length);
}

}  // namespace genre
