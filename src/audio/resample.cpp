// Resampling with libsoxr, configured as python-soxr does for librosa's "soxr_hq".
#include <soxr.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "audio/audio.h"
#include "common/error.h"

namespace genre {

namespace {

struct SoxrDeleter {
  void operator()(soxr* s) const { soxr_delete(s); }
};

// Input fed to soxr per call. soxr_oneshot hands it the whole signal, which soxr copies into an
// input FIFO grown by realloc (megabytes of fresh pages and copies per track); in blocks the FIFO
// stays small and in the cache. The output is the same to the bit
// (Resample.BlocksGiveOneShotsSamplesToTheBit).
constexpr std::size_t kBlock = 1 << 14;

}  // namespace

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
  soxr_error_t err = nullptr;
  std::unique_ptr<soxr, SoxrDeleter> soxr(
      soxr_create(in_rate, out_rate, 1, &err, &io, &quality, &runtime));
  if (err) throw Error(ErrorKind::kInvalidArgument, "", std::string("libsoxr: ") + err);

  // Feed blocks, then an empty input (end of signal) until soxr has flushed its filter;
  // soxr_oneshot does the same, and stops where the output would exceed `capacity`.
  std::size_t consumed = 0, produced = 0;
  while (produced < capacity) {
    const std::size_t take = std::min(kBlock, signal.size() - consumed);
    std::size_t used = 0, done = 0;
    err = soxr_process(soxr.get(), take ? signal.data() + consumed : nullptr, take, &used,
                       out.data() + produced, capacity - produced, &done);
    if (err) throw Error(ErrorKind::kInvalidArgument, "", std::string("libsoxr: ") + err);
    consumed += used;
    produced += done;
    if (take == 0 && done == 0) break;
  }
  out.resize(produced);
  out.resize(target, 0.0f);
  return out;
}

}  // namespace genre
