// genre/audio: one audio file decoded to mono a block at a time, in order, through one open
// decoder.
//
// The same samples as decode_mono() bit for bit, however the reads are cut, and the same checks
// (header fields, NaN samples, decoder errors, a file cut short). Reading in order needs no
// seeking, so MP3 and Ogg, whose seeking is not sample-exact, can be streamed too
// (features/logmel_stream.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "audio/audio.h"

namespace genre {

class MonoReader {
 public:
  // Opens `path` (checking its header) and seeks to `start_frame`.
  explicit MonoReader(const std::string& path, std::int64_t start_frame = 0);
  ~MonoReader();
  MonoReader(const MonoReader&) = delete;
  MonoReader& operator=(const MonoReader&) = delete;

  const AudioInfo& info() const;
  std::int64_t position() const;  // frames from the start of the file

  // Appends up to `n` mono frames to `out` and returns how many; fewer only at the end of the
  // file. Reaching the end checks the whole read: a decoder error, or a file shorter than its
  // header declares, throws genre::Error naming the file.
  std::int64_t read(std::int64_t n, std::vector<float>& out);

  // The checks of the end of the file for a read that stops before it (decoder errors, a data
  // chunk cut short).
  void check_so_far() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Frames of `path` as decoded to the end (MP3 and Ogg headers only estimate it): one pass.
std::int64_t count_decoded_frames(const std::string& path);

}  // namespace genre
