// genre/features: the log-mel of a long audio file, block by block, in bounded memory.
//
// The file is decoded a chunk at a time (in order, through one open decoder), resampled as one
// stream and cut into frames with the STFT's overlap carried over, so every frame is bit-identical
// to the same frame of logmel_whole(load_mono(path)) before top_db clipping (which needs the whole
// track's peak: the caller clips, see clip_db). Every format streams; MP3 and Ogg, whose headers
// only estimate the length, are decoded once more first to count their frames.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "audio/audio.h"
#include "audio/mono_reader.h"
#include "audio/resample_stream.h"
#include "features/features.h"

namespace genre {

class LogmelStream {
 public:
  LogmelStream(const std::string& path, const FeatureConfig& config);
  ~LogmelStream();

  int n_frames() const { return n_frames_; }
  double seconds() const;  // of the file, from its header

  // The next block of frames in dB, not clipped: [n_mels x k] starting at frame *first.
  // False once every frame has been returned.
  bool next(Spectrogram& block, int* first);

 private:
  void read_more();  // decodes and resamples the next chunk (or finishes the stream)

  std::string path_;
  FeatureConfig config_;  // top_db = 0: power_to_db without clipping
  std::int64_t in_frames_ = 0, in_pos_ = 0;
  int in_rate_ = 0;
  int n_frames_ = 0, next_frame_ = 0;
  std::vector<float> samples_;  // resampled samples [samples_start_, samples_start_ + size)
  std::int64_t samples_start_ = 0;
  bool finished_ = false;
  std::unique_ptr<ResampleStream> resampler_;
  std::unique_ptr<MonoReader> reader_;
};

// power_to_db's top_db clipping with a peak found over the whole track.
void clip_db(Spectrogram& block, float peak, double top_db);

}  // namespace genre
