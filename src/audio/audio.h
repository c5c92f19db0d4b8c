// genre/audio: decode any audio file to a mono signal at a target rate, as librosa.load does.
//
//   decode (libsndfile) -> mix to mono (mean of channels) -> resample (libsoxr HQ)
//
// Every failure throws genre::Error naming the file and the reason; nothing here aborts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace genre {

struct AudioInfo {
  int sample_rate = 0;
  int channels = 0;
  std::int64_t frames = 0;  // as reported by the container; may be approximate for MP3
  std::string format;       // e.g. "FLAC", "WAV", "OGG", "MPEG"
};

// Opens `path` and reports its format without decoding it.
AudioInfo probe_audio(const std::string& path);

// Decodes `path` to mono float samples at the file's own rate (mean of channels).
// Reads `max_frames` frames starting at `start_frame` (max_frames < 0: to the end).
std::vector<float> decode_mono(const std::string& path, int* sample_rate,
                               std::int64_t start_frame = 0, std::int64_t max_frames = -1);

// Resamples with libsoxr's HQ recipe (librosa's default "soxr_hq"); the output has exactly
// ceil(n * out_rate / in_rate) samples, as librosa.resample returns. Same rate: a copy.
std::vector<float> resample(const std::vector<float>& signal, int in_rate, int out_rate);

// librosa.load(path, sr=rate, mono=True).
std::vector<float> load_mono(const std::string& path, int rate);

// The middle `length` samples of a signal of `total` samples at `rate` from `path`, zero-padded at
// the end when shorter, identical (within float rounding) to cropping load_mono()'s output.
// Long files are decoded only around the excerpt, so memory stays bounded.
// `total_length` (optional) receives the length of the whole resampled signal.
std::vector<float> load_middle_excerpt(const std::string& path, int rate, std::int64_t length,
                                       std::int64_t* total_length = nullptr);

// Start index of the middle `length` samples of `total` (0 when the signal is shorter).
std::int64_t middle_excerpt_start(std::int64_t total, std::int64_t length);

// Lower-case audio file extensions genre looks for in directories (".wav", ".flac", ...).
const std::vector<std::string>& audio_extensions();
bool has_audio_extension(const std::string& path);

}  // namespace genre
