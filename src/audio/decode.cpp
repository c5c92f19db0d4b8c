// Decoding with libsndfile: WAV, AU, AIFF, FLAC, Ogg Vorbis, Ogg Opus and MP3.
#include <sndfile.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>

#include "audio/audio.h"
#include "audio/mono_reader.h"
#include "common/error.h"

namespace genre {

namespace {

struct SndfileCloser {
  void operator()(SNDFILE* f) const { sf_close(f); }
};
using SndfileHandle = std::unique_ptr<SNDFILE, SndfileCloser>;

constexpr int kMaxChannels = 64;
constexpr int kMinSampleRate = 1000;
constexpr int kMaxSampleRate = 768000;
// 48 hours at the highest rate: far beyond any song, far below what would exhaust memory
// through a lying header (2^40 frames).
constexpr std::int64_t kMaxFrames = std::int64_t{kMaxSampleRate} * 3600 * 48;
// Samples (all channels) read per sf_readf_float call, whatever the channel count: small enough
// that a block stays in the cache between decoding and mixing.
constexpr sf_count_t kBlockSamples = 1 << 14;
// Up to this many frames are reserved from the header's count; beyond it the vector grows as
// samples actually arrive, so a lying header cannot make genre allocate.
constexpr std::int64_t kMaxReservedFrames = std::int64_t{1} << 22;

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

// Header fields are checked before anything is sized from them: a header may claim any rate,
// channel count or length.
void validate_header(const std::string& path, const SF_INFO& info) {
  if (info.channels <= 0 || info.samplerate <= 0)
    throw Error(ErrorKind::kCorrupt, path,
                "invalid header: " + std::to_string(info.channels) + " channels at " +
                    std::to_string(info.samplerate) + " Hz");
  if (info.channels > kMaxChannels)
    throw Error(ErrorKind::kUnsupportedFormat, path,
                std::to_string(info.channels) + " channels is more than genre reads (" +
                    std::to_string(kMaxChannels) + ")");
  if (info.samplerate < kMinSampleRate || info.samplerate > kMaxSampleRate)
    throw Error(ErrorKind::kUnsupportedFormat, path,
                "sample rate " + std::to_string(info.samplerate) + " Hz is out of range (" +
                    std::to_string(kMinSampleRate) + ".." + std::to_string(kMaxSampleRate) + ")");
  if (info.frames < 0 || info.frames > kMaxFrames)
    throw Error(ErrorKind::kCorrupt, path,
                "header claims " + std::to_string(info.frames) + " frames (" +
                    std::to_string(info.frames / info.samplerate / 3600) +
                    " hours), more than genre reads");
}

// libsndfile's text for a failed open is sometimes wrong for the case at hand (a random-bytes .mp3
// is "File does not exist or is not a regular file"): genre's words first, the library's after.
[[noreturn]] void throw_open_error(const std::string& path, int code, const std::string& detail) {
  switch (code) {
    case SF_ERR_UNRECOGNISED_FORMAT:
      throw Error(ErrorKind::kNotAudio, path, "not a recognised audio file (" + detail + ")");
    case SF_ERR_UNSUPPORTED_ENCODING:
      throw Error(ErrorKind::kUnsupportedFormat, path, "unsupported encoding (" + detail + ")");
    case SF_ERR_MALFORMED_FILE:
      throw Error(ErrorKind::kCorrupt, path, "malformed audio file (" + detail + ")");
    case SF_ERR_SYSTEM:
      throw Error(ErrorKind::kUnreadable, path, "cannot read (" + detail + ")");
    default:
      // check_path() has already seen a readable regular file, so any other failure means the
      // bytes are not audio libsndfile can decode.
      throw Error(ErrorKind::kNotAudio, path,
                  "not a readable audio file (decoder: " + detail + ")");
  }
}

SndfileHandle open_sndfile(const std::string& path, SF_INFO* info) {
  check_path(path);
  *info = SF_INFO{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, info);
  if (!f) throw_open_error(path, sf_error(nullptr), sf_strerror(nullptr));
  SndfileHandle handle(f);
  validate_header(path, *info);
  return handle;
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

namespace {

// Index of the first NaN or infinite sample of `x`, or n. The test is on the bits (exponent all
// ones) so the loop vectorises; non-finite samples would turn the whole spectrogram into NaN.
std::size_t first_non_finite(const float* x, std::size_t n) {
  std::uint32_t any = 0;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t bits;
    std::memcpy(&bits, &x[i], sizeof bits);
    any |= static_cast<std::uint32_t>((bits & 0x7f800000u) == 0x7f800000u);
  }
  if (!any) return n;
  std::size_t i = 0;
  while (i < n && std::isfinite(x[i])) ++i;
  return i;
}

// Mixes `frames` interleaved frames into `mono` as their channel mean (numpy's float32 mean: sum
// in float, then divide by the count).
void mix_down(const float* interleaved, std::size_t frames, int channels, float* mono) {
  for (std::size_t i = 0; i < frames; ++i) {
    const float* frame = interleaved + i * channels;
    float sum = 0.0f;
    for (int c = 0; c < channels; ++c) sum += frame[c];
    mono[i] = sum / static_cast<float>(channels);
  }
}

std::string seconds_text(std::int64_t frames, int rate) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f s", static_cast<double>(frames) / rate);
  return buf;
}

// libsndfile quietly shortens a PCM file whose data chunk claims more bytes than the file holds
// (a copy cut short), and logs "data : 160000 (should be 8000)". Returns the claimed and present
// byte counts of such a chunk, or {0, 0}. Placeholder sizes of streamed writers (0, 0xFFFFFFFF)
// are not claims.
std::pair<long long, long long> short_data_chunk(SNDFILE* f) {
  std::vector<char> log(16384, '\0');
  sf_command(f, SFC_GET_LOG_INFO, log.data(), static_cast<int>(log.size()) - 1);
  const std::string text(log.data());
  for (const char* chunk : {"\ndata : ", "\nSSND : "}) {
    const auto at = text.find(chunk);
    if (at == std::string::npos) continue;
    long long claimed = 0, present = 0;
    if (std::sscanf(text.c_str() + at + std::strlen(chunk), "%lld (should be %lld)", &claimed,
                    &present) == 2 &&
        claimed > present && claimed != 0xFFFFFFFFLL)
      return {claimed, present};
  }
  return {0, 0};
}

}  // namespace

struct MonoReader::State {
  std::string path;
  SF_INFO sf{};
  SndfileHandle file;
  AudioInfo info;
  std::int64_t start = 0, position = 0;
  bool exact_length = true;        // MP3 lengths are estimates; every other container's is exact
  std::vector<float> interleaved;  // one block of a multichannel file
};

MonoReader::MonoReader(const std::string& path, std::int64_t start_frame)
    : state_(std::make_unique<State>()) {
  State& s = *state_;
  s.path = path;
  s.file = open_sndfile(path, &s.sf);
  s.info.sample_rate = s.sf.samplerate;
  s.info.channels = s.sf.channels;
  s.info.frames = s.sf.frames;
  s.info.format = major_format_name(s.sf.format);
  s.exact_length = (s.sf.format & SF_FORMAT_TYPEMASK) != SF_FORMAT_MPEG;
  if (start_frame > 0 && sf_seek(s.file.get(), start_frame, SEEK_SET) < 0)
    throw Error(ErrorKind::kCorrupt, path, "cannot seek to frame " + std::to_string(start_frame));
  s.start = s.position = std::max<std::int64_t>(0, start_frame);
  if (s.sf.channels != 1)
    s.interleaved.resize(static_cast<std::size_t>(kBlockSamples / s.sf.channels + 1) *
                         s.sf.channels);
}

MonoReader::~MonoReader() = default;

const AudioInfo& MonoReader::info() const { return state_->info; }

std::int64_t MonoReader::position() const { return state_->position; }

std::int64_t MonoReader::read(std::int64_t n, std::vector<float>& out) {
  State& s = *state_;
  const int channels = s.sf.channels;
  // Mono files are decoded straight into `out`; others through a small interleaved block.
  const sf_count_t block = std::max<sf_count_t>(1, kBlockSamples / channels);
  std::int64_t done = 0;
  while (done < n) {
    const sf_count_t want = std::min<sf_count_t>(block, n - done);
    const std::size_t at = out.size();
    out.resize(at + static_cast<std::size_t>(want));
    float* dest = channels == 1 ? out.data() + at : s.interleaved.data();
    const sf_count_t got = std::max<sf_count_t>(0, sf_readf_float(s.file.get(), dest, want));
    if (channels != 1)
      mix_down(s.interleaved.data(), static_cast<std::size_t>(got), channels, out.data() + at);
    out.resize(at + static_cast<std::size_t>(got));
    const std::size_t bad = first_non_finite(out.data() + at, static_cast<std::size_t>(got));
    if (bad < static_cast<std::size_t>(got))
      throw Error(ErrorKind::kCorrupt, s.path,
                  "sample " + std::to_string(s.position - s.start + bad) + " is NaN or infinite");
    s.position += got;
    done += got;
    if (got <= 0) break;
  }
  if (done < n) {  // the end of the file: was it all there?
    check_so_far();
    // Ogg's length comes from the last page's granule position; allow its decoders a few ms.
    const std::int64_t slack =
        (s.sf.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_OGG ? s.sf.samplerate / 10 : 0;
    if (s.exact_length && s.position + slack < s.sf.frames)
      throw Error(ErrorKind::kCorrupt, s.path,
                  "truncated: decoded " + seconds_text(s.position, s.sf.samplerate) + " of the " +
                      seconds_text(s.sf.frames, s.sf.samplerate) + " its header declares");
  }
  return done;
}

void MonoReader::check_so_far() const {
  const State& s = *state_;
  const std::string declared =
      s.exact_length
          ? " of the " + seconds_text(s.sf.frames, s.sf.samplerate) + " its header declares"
          : "";
  if (sf_error(s.file.get()) != SF_ERR_NO_ERROR)
    throw Error(ErrorKind::kCorrupt, s.path,
                "decoding failed after " + seconds_text(s.position, s.sf.samplerate) + declared +
                    " (decoder: " + sf_strerror(s.file.get()) + ")");
  const auto [claimed, present] = short_data_chunk(s.file.get());
  if (claimed > 0)
    throw Error(ErrorKind::kCorrupt, s.path,
                "truncated: its header declares " + std::to_string(claimed) +
                    " bytes of audio, the file holds " + std::to_string(present) + " (" +
                    seconds_text(s.sf.frames, s.sf.samplerate) + ")");
}

std::int64_t count_decoded_frames(const std::string& path) {
  MonoReader reader(path);
  std::vector<float> scratch;
  std::int64_t total = 0;
  for (std::int64_t got = 1; got > 0; total += got) {
    scratch.clear();
    got = reader.read(kBlockSamples, scratch);
  }
  return total;
}

std::vector<float> decode_mono(const std::string& path, int* sample_rate, std::int64_t start_frame,
                               std::int64_t max_frames) {
  MonoReader reader(path, start_frame);
  const AudioInfo& info = reader.info();
  if (sample_rate) *sample_rate = info.sample_rate;
  std::int64_t expected = std::max<std::int64_t>(0, info.frames - start_frame);
  if (max_frames >= 0) expected = std::min(expected, max_frames);
  std::vector<float> mono;
  mono.reserve(static_cast<std::size_t>(std::min(expected, kMaxReservedFrames)));
  // A bounded read stops before the end, where read() checks the whole; the rest is checked here.
  if (max_frames >= 0) {
    if (reader.read(max_frames, mono) == max_frames) reader.check_so_far();
  } else {
    while (reader.read(kBlockSamples, mono) == kBlockSamples) {
    }
  }
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
