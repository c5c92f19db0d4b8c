// Decoding with libsndfile: WAV, AU, AIFF, FLAC, Ogg Vorbis, Ogg Opus and MP3.
#include <sndfile.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <memory>

#include "audio/audio.h"
#include "common/error.h"

namespace genre {

namespace {

struct SndfileCloser {
  void operator()(SNDFILE* f) const { sf_close(f); }
};
using SndfileHandle = std::unique_ptr<SNDFILE, SndfileCloser>;

// Checks what libsndfile cannot tell apart well: missing files, directories, empty files.
void check_path(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR)
      throw Error(ErrorKind::kNotFound, path, "no such file");
    throw Error(ErrorKind::kUnreadable, path, std::strerror(errno));
  }
  if (S_ISDIR(st.st_mode)) throw Error(ErrorKind::kUnreadable, path, "is a directory, not a file");
  if (!S_ISREG(st.st_mode)) throw Error(ErrorKind::kUnreadable, path, "not a regular file");
  if (st.st_size == 0) throw Error(ErrorKind::kEmpty, path, "file is empty (0 bytes)");
}

SndfileHandle open_sndfile(const std::string& path, SF_INFO* info) {
  check_path(path);
  *info = SF_INFO{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, info);
  if (f) return SndfileHandle(f);
  const int code = sf_error(nullptr);
  const std::string detail = sf_strerror(nullptr);
  switch (code) {
    case SF_ERR_UNRECOGNISED_FORMAT:
      throw Error(ErrorKind::kNotAudio, path, "not a recognised audio file (" + detail + ")");
    case SF_ERR_UNSUPPORTED_ENCODING:
      throw Error(ErrorKind::kUnsupportedFormat, path, "unsupported encoding (" + detail + ")");
    case SF_ERR_MALFORMED_FILE:
      throw Error(ErrorKind::kCorrupt, path, "malformed audio file (" + detail + ")");
    case SF_ERR_SYSTEM:
      throw Error(ErrorKind::kUnreadable, path, detail);
    default:
      // libsndfile reports many header problems with format-specific codes.
      throw Error(ErrorKind::kCorrupt, path, "cannot decode (" + detail + ")");
  }
}

const char* major_format_name(int format) {
  SF_FORMAT_INFO fi{};
  fi.format = format & SF_FORMAT_TYPEMASK;
  if (sf_command(nullptr, SFC_GET_FORMAT_INFO, &fi, sizeof fi) == 0 && fi.extension)
    return fi.extension;
  return "unknown";
}

}  // namespace

AudioInfo probe_audio(const std::string& path) {
  SF_INFO info;
  SndfileHandle f = open_sndfile(path, &info);
  AudioInfo out;
  out.sample_rate = info.samplerate;
  out.channels = info.channels;
  out.frames = info.frames;
  out.format = major_format_name(info.format);
  return out;
}

std::vector<float> decode_mono(const std::string& path, int* sample_rate, std::int64_t start_frame,
                               std::int64_t max_frames) {
  SF_INFO info;
  SndfileHandle f = open_sndfile(path, &info);
  if (info.channels <= 0 || info.samplerate <= 0)
    throw Error(ErrorKind::kCorrupt, path, "invalid channel count or sample rate in header");
  if (info.samplerate < 1000 || info.samplerate > 768000)
    throw Error(ErrorKind::kUnsupportedFormat, path,
                "sample rate " + std::to_string(info.samplerate) + " Hz is out of range");
  if (sample_rate) *sample_rate = info.samplerate;
  if (start_frame > 0 && sf_seek(f.get(), start_frame, SEEK_SET) < 0)
    throw Error(ErrorKind::kCorrupt, path, "cannot seek to frame " + std::to_string(start_frame));

  const int channels = info.channels;
  const sf_count_t block = 65536;
  std::vector<float> interleaved(static_cast<std::size_t>(block) * channels);
  std::vector<float> mono;
  if (info.frames > 0 && info.frames < (std::int64_t{1} << 34)) {
    const std::int64_t expected = info.frames - start_frame;
    mono.reserve(
        static_cast<std::size_t>(max_frames >= 0 ? std::min(max_frames, expected) : expected));
  }
  while (max_frames < 0 || static_cast<std::int64_t>(mono.size()) < max_frames) {
    sf_count_t want = block;
    if (max_frames >= 0) want = std::min<sf_count_t>(want, max_frames - mono.size());
    const sf_count_t got = sf_readf_float(f.get(), interleaved.data(), want);
    if (got <= 0) break;
    if (channels == 1) {
      mono.insert(mono.end(), interleaved.begin(), interleaved.begin() + got);
    } else {
      // numpy's float32 mean: sum in float, then divide by the count.
      for (sf_count_t i = 0; i < got; ++i) {
        const float* frame = &interleaved[static_cast<std::size_t>(i) * channels];
        float sum = 0.0f;
        for (int c = 0; c < channels; ++c) sum += frame[c];
        mono.push_back(sum / static_cast<float>(channels));
      }
    }
  }
  const int err = sf_error(f.get());
  if (err != SF_ERR_NO_ERROR)
    throw Error(ErrorKind::kCorrupt, path, std::string("decoding failed: ") + sf_strerror(f.get()));
  if (mono.empty() && start_frame == 0)
    throw Error(ErrorKind::kEmpty, path, "contains no audio samples");
  return mono;
}

const std::vector<std::string>& audio_extensions() {
  static const std::vector<std::string> exts = {".wav",  ".wave", ".au",  ".snd", ".aif",  ".aiff",
                                                ".aifc", ".flac", ".ogg", ".oga", ".opus", ".mp3"};
  return exts;
}

bool has_audio_extension(const std::string& path) {
  const auto dot = path.find_last_of('.');
  if (dot == std::string::npos) return false;
  std::string ext = path.substr(dot);
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& e : audio_extensions())
    if (e == ext) return true;
  return false;
}

}  // namespace genre
