#include "features/logmel_stream.h"

#include <algorithm>

#include "common/error.h"

namespace genre {

namespace {

constexpr std::int64_t kChunkFrames = 1 << 20;  // decoded per read, at the file's rate
constexpr int kBlockFrames = 2048;              // STFT frames per block

// Containers whose header states the length exactly; MP3's is an estimate, and Ogg's (the last
// page's granule position) may differ from what its decoders return by a few ms.
bool has_exact_length(const AudioInfo& info) {
  const std::string& f = info.format;
  return f == "wav" || f == "aiff" || f == "au" || f == "flac" || f == "w64" || f == "rf64";
}

}  // namespace

LogmelStream::LogmelStream(const std::string& path, const FeatureConfig& config)
    : path_(path), config_(config) {
  config_.validate();
  config_.top_db = 0;
  reader_ = std::make_unique<MonoReader>(path);
  const AudioInfo& info = reader_->info();
  // The resampled length (and so the frame count) needs the exact length up front.
  in_frames_ = has_exact_length(info) ? info.frames : count_decoded_frames(path);
  if (in_frames_ <= 0) throw Error(ErrorKind::kEmpty, path, "contains no audio samples");
  in_rate_ = info.sample_rate;
  resampler_ = std::make_unique<ResampleStream>(in_rate_, config_.sample_rate, in_frames_);
  n_frames_ = 1 + static_cast<int>(resampler_->length() / config_.hop_length);
}

LogmelStream::~LogmelStream() = default;

double LogmelStream::seconds() const { return static_cast<double>(in_frames_) / in_rate_; }

void LogmelStream::read_more() {
  if (in_pos_ >= in_frames_) {
    resampler_->finish(samples_);
    finished_ = true;
    return;
  }
  const std::int64_t n = std::min(kChunkFrames, in_frames_ - in_pos_);
  // The reader reports a file cut short, NaN samples and the rest as decode_mono does.
  std::vector<float> chunk;
  chunk.reserve(static_cast<std::size_t>(n));
  if (reader_->read(n, chunk) != n)
    throw Error(ErrorKind::kCorrupt, path_,
                "truncated: decoded " + std::to_string(in_pos_ + chunk.size()) + " of the " +
                    std::to_string(in_frames_) + " frames its header declares");
  resampler_->push(chunk.data(), chunk.size(), samples_);
  in_pos_ += n;
}

bool LogmelStream::next(Spectrogram& block, int* first) {
  if (next_frame_ >= n_frames_) return false;
  const std::int64_t hop = config_.hop_length, n_fft = config_.n_fft, pad = n_fft / 2;
  const std::int64_t length = resampler_->length();
  const std::int64_t pad_frames = (pad + hop - 1) / hop;
  const int t0 = next_frame_, t1 = std::min(n_frames_, t0 + kBlockFrames);
  // Frame t (center=True) reads samples [t*hop - pad, t*hop - pad + n_fft); the last frames read
  // up to the end of the signal and its padding.
  const std::int64_t end =
      t1 == n_frames_ ? length : std::min(length, (t1 - 1) * hop - pad + n_fft);
  while (!finished_ && samples_start_ + static_cast<std::int64_t>(samples_.size()) < end)
    read_more();
  // A slice starting on a frame boundary k*hop: its frame j is the track's frame k + j, and the
  // frames wanted read no padding of the slice's own except at the track's two ends, where the
  // slice's ends are the track's.
  const std::int64_t k = std::max<std::int64_t>(0, t0 - pad_frames);
  const std::int64_t start = k * hop;
  const MelSpectrogram& mel = mel_spectrogram_for(config_);
  Spectrogram s = mel.mel_power(samples_.data() + (start - samples_start_),
                                static_cast<std::size_t>(end - start));
  mel.power_to_db(s);
  if (s.n_frames < t1 - k)
    throw Error(ErrorKind::kInvalidArgument, path_, "log-mel stream: block out of step");
  block.n_mels = s.n_mels;
  block.n_frames = t1 - t0;
  block.data.resize(static_cast<std::size_t>(block.n_mels) * block.n_frames);
  for (int m = 0; m < s.n_mels; ++m)
    for (int j = 0; j < block.n_frames; ++j) block.at(m, j) = s.at(m, static_cast<int>(t0 - k) + j);
  // Keep only the samples the next block reads.
  const std::int64_t keep_from = std::max<std::int64_t>(0, t1 - pad_frames) * hop;
  const std::int64_t drop = std::min<std::int64_t>(keep_from - samples_start_, samples_.size());
  if (drop > 0) {
    samples_.erase(samples_.begin(), samples_.begin() + drop);
    samples_start_ += drop;
  }
  next_frame_ = t1;
  *first = t0;
  return true;
}

void clip_db(Spectrogram& block, float peak, double top_db) {
  if (top_db <= 0) return;
  const float lowest = static_cast<float>(peak - top_db);  // as power_to_db computes it
  for (float& v : block.data) v = std::max(v, lowest);
}

}  // namespace genre
