// STFT (FFTW) + mel projection + dB, matching librosa 0.10.
#include <fftw3.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "features/features.h"

namespace genre {

namespace {

// FFTW's planner is not thread-safe; fftw_execute_dft_r2c on a finished plan is.
std::mutex& fftw_planner_mutex() {
  static std::mutex m;
  return m;
}

// Frames are transformed in batches: the batch's power spectra are stored bin-major
// ([bin][frame]) so the mel product runs over the batch's frames in unit stride (the compiler
// vectorises it, each frame keeping the same order of additions) and writes each mel row's
// frames contiguously.
constexpr int kBatch = 8;

struct FftwBuffer {
  double* real;
  fftw_complex* spectrum;
  explicit FftwBuffer(int n_fft)
      : real(fftw_alloc_real(static_cast<std::size_t>(n_fft) * kBatch)),
        spectrum(fftw_alloc_complex(static_cast<std::size_t>(n_fft / 2 + 1) * kBatch)) {}
  ~FftwBuffer() {
    fftw_free(real);
    fftw_free(spectrum);
  }
  FftwBuffer(const FftwBuffer&) = delete;
  FftwBuffer& operator=(const FftwBuffer&) = delete;
};

// numpy.pad(mode="reflect") index: mirror without repeating the edge sample.
std::int64_t reflect_index(std::int64_t i, std::int64_t n) {
  if (n == 1) return 0;
  const std::int64_t period = 2 * (n - 1);
  i %= period;
  if (i < 0) i += period;
  return i < n ? i : period - i;
}

}  // namespace

struct MelSpectrogram::Impl {
  int n_bins = 0;
  std::vector<double> window;  // periodic Hann (scipy get_window("hann", n, fftbins=True))
  // The filterbank is sparse: each mel band covers a contiguous range of FFT bins.
  struct Band {
    int first_bin = 0;
    std::vector<double> weights;
  };
  std::vector<Band> bands;
  fftw_plan plan = nullptr;
};

MelSpectrogram::MelSpectrogram(const FeatureConfig& config) : config_(config), impl_(new Impl) {
  config_.validate();
  const int n_fft = config_.n_fft;
  impl_->n_bins = n_fft / 2 + 1;
  impl_->window.resize(n_fft);
  for (int i = 0; i < n_fft; ++i) impl_->window[i] = 0.5 - 0.5 * std::cos(2.0 * M_PI * i / n_fft);

  const std::vector<float> fb = mel_filterbank(config_);
  impl_->bands.resize(config_.n_mels);
  for (int m = 0; m < config_.n_mels; ++m) {
    const float* row = &fb[static_cast<std::size_t>(m) * impl_->n_bins];
    int first = 0, last = -1;
    for (int k = 0; k < impl_->n_bins; ++k)
      if (row[k] != 0.0f) {
        if (last < 0) first = k;
        last = k;
      }
    Impl::Band& band = impl_->bands[m];
    band.first_bin = first;
    for (int k = first; k <= last; ++k) band.weights.push_back(row[k]);
  }

  FftwBuffer scratch(n_fft);
  std::lock_guard<std::mutex> lock(fftw_planner_mutex());
  // FFTW_ESTIMATE: a deterministic plan, so features are bit-identical from run to run.
  impl_->plan = fftw_plan_dft_r2c_1d(n_fft, scratch.real, scratch.spectrum, FFTW_ESTIMATE);
  if (!impl_->plan) throw Error(ErrorKind::kInvalidArgument, "", "FFTW could not plan the STFT");
}

MelSpectrogram::~MelSpectrogram() {
  if (impl_ && impl_->plan) {
    std::lock_guard<std::mutex> lock(fftw_planner_mutex());
    fftw_destroy_plan(impl_->plan);
  }
}

Spectrogram MelSpectrogram::mel_power(const float* signal, std::size_t n) const {
  const int n_fft = config_.n_fft, hop = config_.hop_length, n_bins = impl_->n_bins;
  const bool reflect = config_.pad_mode == "reflect";
  const std::int64_t pad = n_fft / 2;
  const std::int64_t length = static_cast<std::int64_t>(n);
  const double* const window = impl_->window.data();

  Spectrogram out;
  out.n_mels = config_.n_mels;
  out.n_frames = 1 + static_cast<int>(length / hop);
  out.data.assign(static_cast<std::size_t>(out.n_mels) * out.n_frames, 0.0f);

  FftwBuffer buf(n_fft);
  std::vector<double> power(static_cast<std::size_t>(n_bins) * kBatch);  // [bin][frame]
  for (int t0 = 0; t0 < out.n_frames; t0 += kBatch) {
    const int frames = std::min(kBatch, out.n_frames - t0);
    for (int f = 0; f < frames; ++f) {
      double* __restrict real = buf.real + static_cast<std::size_t>(f) * n_fft;
      const std::int64_t origin = static_cast<std::int64_t>(t0 + f) * hop - pad;  // center=True
      if (origin >= 0 && origin + n_fft <= length) {
        const float* __restrict x = signal + origin;
        for (int i = 0; i < n_fft; ++i) real[i] = static_cast<double>(x[i]) * window[i];
      } else {
        for (int i = 0; i < n_fft; ++i) {
          const std::int64_t s = origin + i;
          double x = 0.0;
          if (s >= 0 && s < length)
            x = signal[s];
          else if (reflect && length > 0)
            x = signal[reflect_index(s, length)];
          real[i] = x * window[i];
        }
      }
      fftw_complex* spectrum = buf.spectrum + static_cast<std::size_t>(f) * n_bins;
      fftw_execute_dft_r2c(impl_->plan, real, spectrum);
      for (int k = 0; k < n_bins; ++k) {
        // librosa keeps the STFT as complex64 and squares |X| in float32.
        const float re = static_cast<float>(spectrum[k][0]);
        const float im = static_cast<float>(spectrum[k][1]);
        const float mag = std::sqrt(re * re + im * im);
        power[static_cast<std::size_t>(k) * kBatch + f] = static_cast<double>(mag) * mag;
      }
    }
    for (int m = 0; m < out.n_mels; ++m) {
      const Impl::Band& band = impl_->bands[m];
      double acc[kBatch] = {};
      for (std::size_t j = 0; j < band.weights.size(); ++j) {
        const double w = band.weights[j];
        const double* p = &power[(band.first_bin + j) * kBatch];
        for (int f = 0; f < kBatch; ++f) acc[f] += w * p[f];
      }
      float* row = &out.at(m, t0);
      for (int f = 0; f < frames; ++f) row[f] = static_cast<float>(acc[f]);
    }
  }
  return out;
}

void MelSpectrogram::power_to_db(Spectrogram& mel) const {
  const double mult = config_.db_multiplier;
  // db_multiplier 20 is 10*log10(max(amin, p^2)) = 20*log10(max(sqrt(amin), p)).
  const double floor = mult == 20.0 ? std::sqrt(config_.amin) : config_.amin;
  // Single precision (as librosa computes on float32 input) and a loop the compiler vectorises.
  const float floor_f = static_cast<float>(floor), mult_f = static_cast<float>(mult);
  float peak = -std::numeric_limits<float>::infinity();
  for (float& v : mel.data) {
    v = mult_f * std::log10(std::max(floor_f, v));
    peak = std::max(peak, v);
  }
  if (config_.top_db > 0) {
    const float lowest = static_cast<float>(peak - config_.top_db);
    for (float& v : mel.data) v = std::max(v, lowest);
  }
}

const MelSpectrogram& mel_spectrogram_for(const FeatureConfig& config) {
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<MelSpectrogram>> cache;
  const std::string key = nlohmann::json(config).dump();
  std::lock_guard<std::mutex> lock(mutex);
  auto& slot = cache[key];
  if (!slot) slot = std::make_unique<MelSpectrogram>(config);
  return *slot;
}

}  // namespace genre
