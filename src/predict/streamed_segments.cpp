#include "predict/streamed_segments.h"

#include <algorithm>
#include <limits>

#include "audio/audio.h"
#include "common/error.h"
#include "features/logmel_stream.h"

namespace genre {

namespace {

// run_windows (model/inference.cpp) caps a CPU batch at this many frames; groups here are whole
// batches of it, so every crop goes through the model in the same batch as on the whole track.
constexpr int kMaxBatchFrames = 2048;
// Frames a group of crops spans, roughly: the log-mel held at once.
constexpr int kGroupFrames = 4096;

struct Levels {
  float peak = -std::numeric_limits<float>::infinity();
  float low = std::numeric_limits<float>::infinity();
  std::vector<float> frame_max;  // one float per frame: 2 MB for 3 hours
};

Levels first_pass(const std::string& path, const FeatureConfig& fc) {
  LogmelStream stream(path, fc);
  Levels l;
  l.frame_max.assign(stream.n_frames(), -std::numeric_limits<float>::infinity());
  Spectrogram block;
  int first = 0;
  while (stream.next(block, &first))
    for (int m = 0; m < block.n_mels; ++m)
      for (int j = 0; j < block.n_frames; ++j) {
        const float v = block.at(m, j);
        l.peak = std::max(l.peak, v);
        l.low = std::min(l.low, v);
        l.frame_max[first + j] = std::max(l.frame_max[first + j], v);
      }
  return l;
}

// signal_frames() of the clipped whole log-mel, from the first pass's levels.
int valid_frames(const Levels& l, double top_db) {
  const float lowest =
      top_db > 0 ? static_cast<float>(l.peak - top_db) : -std::numeric_limits<float>::infinity();
  const float floor_value = std::max(l.low, lowest);
  for (int t = static_cast<int>(l.frame_max.size()) - 1; t >= 0; --t)
    if (std::max(l.frame_max[t], lowest) > floor_value) return t + 1;
  return static_cast<int>(l.frame_max.size());
}

// Log-mel frames kept between blocks, frame-major.
struct FrameStore {
  int n_mels = 0, first = 0, count = 0;
  std::vector<float> data;

  void append(const Spectrogram& block) {
    n_mels = block.n_mels;
    for (int j = 0; j < block.n_frames; ++j)
      for (int m = 0; m < block.n_mels; ++m) data.push_back(block.at(m, j));
    count += block.n_frames;
  }
  void drop_before(int frame) {
    const int n = std::clamp(frame - first, 0, count);
    data.erase(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n) * n_mels);
    first += n;
    count -= n;
  }
  Spectrogram range(int from, int to) const {  // [from, to), as a [mel x frame] matrix
    Spectrogram s;
    s.n_mels = n_mels;
    s.n_frames = to - from;
    s.data.resize(static_cast<std::size_t>(n_mels) * s.n_frames);
    for (int t = from; t < to; ++t)
      for (int m = 0; m < n_mels; ++m)
        s.at(m, t - from) = data[static_cast<std::size_t>(t - first) * n_mels + m];
    return s;
  }
};

}  // namespace

bool should_stream_segments(const std::string& path, double above_seconds) {
  const AudioInfo info = probe_audio(path);  // MP3's length is an estimate: close enough here
  return info.frames > above_seconds * info.sample_rate;
}

StreamedCrops streamed_crop_probabilities(Model& model, const std::string& path, int hop_frames,
                                          int batch_size, torch::Device device) {
  const FeatureConfig& fc = model.info.features;
  const Levels levels = first_pass(path, fc);
  const int n_frames = static_cast<int>(levels.frame_max.size());
  StreamedCrops out;
  out.valid_frames = valid_frames(levels, fc.top_db);

  // window_probabilities' crops.
  const int input =
      model.info.arch.input_frames > 0 ? model.info.arch.input_frames : fc.excerpt_frames();
  const int hop = std::max(1, hop_frames);
  if (n_frames <= input) out.offsets.push_back(0);
  for (int o = 0; n_frames > input && o + input <= n_frames; o += hop) out.offsets.push_back(o);
  const int per_batch =
      device.is_cpu() ? std::max(1, std::min(batch_size, kMaxBatchFrames / input)) : batch_size;
  const std::size_t group =
      static_cast<std::size_t>(per_batch) * std::max(1, kGroupFrames / (per_batch * hop));

  LogmelStream stream(path, fc);
  FrameStore store;
  std::vector<torch::Tensor> parts;
  Spectrogram block;
  for (std::size_t w = 0; w < out.offsets.size(); w += group) {
    const std::size_t g = std::min(group, out.offsets.size() - w);
    const int from = out.offsets[w], to = std::min(n_frames, out.offsets[w + g - 1] + input);
    int first = 0;
    while (store.first + store.count < to) {
      if (!stream.next(block, &first))
        throw Error(ErrorKind::kCorrupt, path, "the file changed while it was being read");
      clip_db(block, levels.peak, fc.top_db);
      store.append(block);
    }
    store.drop_before(from);
    std::vector<int> offsets;
    parts.push_back(
        window_probabilities(model, store.range(from, to), hop, batch_size, device, &offsets));
    if (offsets.size() != g)
      throw Error(ErrorKind::kInvalidArgument, path, "streamed crops out of step");
  }
  out.probabilities = torch::cat(parts);
  return out;
}

}  // namespace genre
