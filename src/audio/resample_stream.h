// genre/audio: resample() block by block, for signals too long to hold at once.
//
// libsoxr runs its filters on blocks of its own, whatever the blocks it is fed, so the output is
// bit-identical to resample() over the whole signal (tests/audio/test_streaming.cpp checks it),
// including librosa's length: ceil(n * out_rate / in_rate) samples, zero-padded or trimmed.
#pragma once

#include <cstdint>
#include <vector>

namespace genre {

class ResampleStream {
 public:
  // `total_in`: the input samples that will be pushed in all (sets the output's length).
  ResampleStream(int in_rate, int out_rate, std::int64_t total_in);
  ~ResampleStream();
  ResampleStream(const ResampleStream&) = delete;
  ResampleStream& operator=(const ResampleStream&) = delete;

  // Appends the output for `n` more input samples to `out`.
  void push(const float* in, std::size_t n, std::vector<float>& out);
  // Appends the rest of the output after the last push.
  void finish(std::vector<float>& out);
  // The output's length in all.
  std::int64_t length() const { return target_; }

 private:
  void emit(const float* samples, std::size_t n, std::vector<float>& out);

  void* soxr_ = nullptr;  // soxr_t; null when the rates are equal
  std::int64_t target_ = 0, produced_ = 0;
  std::vector<float> buffer_;
};

}  // namespace genre
