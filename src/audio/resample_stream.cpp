#include "audio/resample_stream.h"

#include <soxr.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "common/error.h"

namespace genre {

ResampleStream::ResampleStream(int in_rate, int out_rate, std::int64_t total_in) {
  if (in_rate <= 0 || out_rate <= 0)
    throw Error(ErrorKind::kInvalidArgument, "", "sample rates must be positive");
  if (in_rate == out_rate || total_in == 0) {
    target_ = total_in;
    return;
  }
  // The same expression as resample(): librosa's ceil(n * ratio).
  const double ratio = static_cast<double>(out_rate) / in_rate;
  target_ = static_cast<std::int64_t>(std::ceil(static_cast<std::size_t>(total_in) * ratio));
  // resample()'s configuration: HQ, one thread.
  const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
  const soxr_quality_spec_t quality = soxr_quality_spec(SOXR_HQ, 0);
  const soxr_runtime_spec_t runtime = soxr_runtime_spec(1);
  soxr_error_t err = nullptr;
  soxr_ = soxr_create(in_rate, out_rate, 1, &err, &io, &quality, &runtime);
  if (err || !soxr_) throw Error(ErrorKind::kInvalidArgument, "", std::string("libsoxr: ") + err);
  buffer_.resize(1 << 16);
}

ResampleStream::~ResampleStream() {
  if (soxr_) soxr_delete(static_cast<soxr_t>(soxr_));
}

// Output past librosa's length is dropped (resample() trims it the same way).
void ResampleStream::emit(const float* samples, std::size_t n, std::vector<float>& out) {
  const std::size_t keep = static_cast<std::size_t>(
      std::max<std::int64_t>(0, std::min<std::int64_t>(n, target_ - produced_)));
  out.insert(out.end(), samples, samples + keep);
  produced_ += keep;
}

void ResampleStream::push(const float* in, std::size_t n, std::vector<float>& out) {
  if (!soxr_) return emit(in, n, out);
  std::size_t done = 0;
  while (done < n) {
    std::size_t used = 0, made = 0;
    const soxr_error_t err = soxr_process(static_cast<soxr_t>(soxr_), in + done, n - done, &used,
                                          buffer_.data(), buffer_.size(), &made);
    if (err) throw Error(ErrorKind::kInvalidArgument, "", std::string("libsoxr: ") + err);
    emit(buffer_.data(), made, out);
    done += used;
  }
}

void ResampleStream::finish(std::vector<float>& out) {
  if (soxr_) {
    for (;;) {  // no more input: drain the filter's delay line
      std::size_t made = 0;
      const soxr_error_t err = soxr_process(static_cast<soxr_t>(soxr_), nullptr, 0, nullptr,
                                            buffer_.data(), buffer_.size(), &made);
      if (err) throw Error(ErrorKind::kInvalidArgument, "", std::string("libsoxr: ") + err);
      if (made == 0) break;
      emit(buffer_.data(), made, out);
    }
  }
  // librosa pads a short result with zeros.
  out.resize(out.size() + static_cast<std::size_t>(std::max<std::int64_t>(0, target_ - produced_)),
             0.0f);
  produced_ = std::max(produced_, target_);
}

}  // namespace genre
