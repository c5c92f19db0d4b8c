#include "model/inference.h"

#include <algorithm>

#include "common/error.h"

namespace genre {

torch::Device resolve_device(const std::string& name) {
  if (name == "cpu") return torch::kCPU;
  if (name == "cuda") {
    if (!torch::cuda::is_available())
      throw Error(ErrorKind::kInvalidArgument, "",
                  "--device cuda: this LibTorch has no usable CUDA device");
    return torch::kCUDA;
  }
  if (name == "auto") return torch::cuda::is_available() ? torch::kCUDA : torch::kCPU;
  throw Error(ErrorKind::kInvalidArgument, "", "device must be auto, cpu or cuda");
}

std::vector<int> crop_offsets(int total_frames, int valid_frames, int input_frames, int hop) {
  if (input_frames <= 0 || input_frames >= total_frames) return {0};
  if (hop <= 0) hop = std::max(1, input_frames / 2);
  const int span = std::max(input_frames, std::min(valid_frames, total_frames));
  std::vector<int> offsets;
  for (int o = 0; o + input_frames <= span; o += hop) offsets.push_back(o);
  if (offsets.empty() || offsets.back() + input_frames < span)
    offsets.push_back(span - input_frames);
  return offsets;
}

namespace {

int total_time_pooling(const ArchConfig& arch) {
  int pool = 1;
  for (const auto& p : arch.pools) pool *= p.second;
  return pool;
}

}  // namespace

bool shares_conv(const ArchConfig& arch) {
  return !arch.is_transfer() && arch.input_frames > 0 &&
         arch.input_frames % total_time_pooling(arch) == 0 && arch.pad_time_to == 0 &&
         arch.input_norm != "time";
}

void copy_crop(const Spectrogram& s, int offset, int length, float* dst) {
  const float floor_value = s.data.empty() ? 0.0f : *std::min_element(s.data.begin(), s.data.end());
  for (int m = 0; m < s.n_mels; ++m) {
    const float* row = &s.data[static_cast<std::size_t>(m) * s.n_frames];
    float* out = dst + static_cast<std::size_t>(m) * length;
    const int available = std::max(0, std::min(length, s.n_frames - offset));
    std::copy(row + offset, row + offset + available, out);
    std::fill(out + available, out + length, floor_value);
  }
}

namespace {

using Window = std::pair<int, int>;  // (track index, first frame)

// Windows [first, first + n) of `length` frames as one [n, 1, mels, length] input on the device
// (channels-last on CPU, measured faster for inference).
torch::Tensor window_batch(const ArchConfig& arch, const std::vector<const Spectrogram*>& tracks,
                           const std::vector<Window>& windows, std::size_t first, std::size_t n,
                           int length, torch::Device device) {
  torch::Tensor batch = torch::empty({static_cast<int64_t>(n), 1, arch.n_mels, length});
  float* data = batch.data_ptr<float>();
  for (std::size_t b = 0; b < n; ++b) {
    const auto& [track, offset] = windows[first + b];
    if (tracks[track]->n_mels != arch.n_mels)
      throw Error(ErrorKind::kInvalidArgument, "",
                  "input has " + std::to_string(tracks[track]->n_mels) +
                      " mel bins, the model expects " + std::to_string(arch.n_mels));
    copy_crop(*tracks[track], offset, length,
              data + b * static_cast<std::size_t>(arch.n_mels) * length);
  }
  torch::Tensor input = batch.to(device);
  if (device.is_cpu()) input = input.contiguous(torch::MemoryFormat::ChannelsLast);
  return input;
}

// kSharedConv for tracks of equal length (longer than the model's crops): the conv blocks over
// a few whole tracks at a time (about batch_size crops' worth of frames), then every crop's
// slice of the feature map through the GRUs together.
torch::Tensor shared_conv_probabilities(Model& model, const std::vector<const Spectrogram*>& tracks,
                                        const std::vector<int>& valid_frames, int batch_size,
                                        torch::Device device) {
  torch::InferenceMode guard;
  const AutocastGuard precision(model.precision, device);
  model.net->eval();
  const ArchConfig& arch = model.info.arch;
  const int pool = total_time_pooling(arch), steps = arch.input_frames / pool;
  const int total = tracks[0]->n_frames;
  const std::size_t per_pass =
      std::max<std::size_t>(1, static_cast<std::size_t>(batch_size) * arch.input_frames / total);
  std::vector<torch::Tensor> means;
  for (std::size_t start = 0; start < tracks.size(); start += per_pass) {
    const std::size_t n = std::min(per_pass, tracks.size() - start);
    std::vector<Window> whole;
    for (std::size_t b = start; b < start + n; ++b) {
      if (tracks[b]->n_frames != total)
        throw Error(ErrorKind::kInvalidArgument, "", "tracks of different lengths in one batch");
      whole.emplace_back(static_cast<int>(b), 0);
    }
    const torch::Tensor sequence =
        model.net->conv_sequence(window_batch(arch, tracks, whole, 0, n, total, device));
    std::vector<std::pair<int, int>> windows;  // (track in this pass, first step)
    std::vector<int64_t> counts;
    for (std::size_t b = 0; b < n; ++b) {
      const int valid = valid_frames.empty() ? total : valid_frames[start + b];
      const auto offsets = crop_offsets(total, valid, arch.input_frames);
      for (int o : offsets) windows.emplace_back(static_cast<int>(b), o / pool);
      counts.push_back(static_cast<int64_t>(offsets.size()));
    }
    const torch::Tensor probs = model.net
                                    ->probabilities(model.net->classify(
                                        model.net->recurrent_windows(sequence, windows, steps)))
                                    .to(torch::kCPU, torch::kFloat32);
    int64_t row = 0;
    for (int64_t count : counts) {
      means.push_back(probs.narrow(0, row, count).mean(0));
      row += count;
    }
  }
  return torch::stack(means);
}

// Long windows go through the model a few at a time: activations grow with a batch's frames, and
// past about one 29 s excerpt per batch larger batches were measured slower on the CPU (cache) and
// took three times the memory (the transfer model: 4.5 tracks/s and 1.6 GB with 16 excerpts per
// batch, 15 tracks/s and 0.57 GB with one; docs/benchmarks.md). Short crops keep batch_size.
constexpr int kMaxBatchFrames = 2048;

}  // namespace

int crops_per_pass(int crop_frames, int batch_size, torch::Device device) {
  if (!device.is_cpu()) return std::max(1, batch_size);
  return std::max(1, std::min(batch_size, kMaxBatchFrames / std::max(1, crop_frames)));
}

namespace {

// Runs windows through the whole model in batches; returns [windows, classes].
torch::Tensor run_windows(Model& model, const std::vector<const Spectrogram*>& tracks,
                          const std::vector<Window>& windows, int length, int batch_size,
                          torch::Device device) {
  torch::InferenceMode guard;
  const AutocastGuard precision(model.precision, device);
  model.net->eval();
  batch_size = crops_per_pass(length, batch_size, device);
  std::vector<torch::Tensor> outputs;
  for (std::size_t start = 0; start < windows.size(); start += batch_size) {
    const std::size_t n = std::min<std::size_t>(batch_size, windows.size() - start);
    const torch::Tensor input =
        window_batch(model.info.arch, tracks, windows, start, n, length, device);
    outputs.push_back(model.net->predict_proba(input).to(torch::kCPU, torch::kFloat32));
  }
  return outputs.empty() ? torch::empty({0, model.info.arch.n_classes}) : torch::cat(outputs);
}

}  // namespace

torch::Tensor track_probabilities(Model& model, const std::vector<const Spectrogram*>& tracks,
                                  const std::vector<int>& valid_frames, int batch_size,
                                  torch::Device device, CropPolicy policy) {
  const int input_frames = model.info.arch.input_frames;
  if (policy == CropPolicy::kSharedConv && shares_conv(model.info.arch) && !tracks.empty() &&
      tracks[0]->n_frames > input_frames)
    return shared_conv_probabilities(model, tracks, valid_frames, batch_size, device);
  std::vector<Window> windows;
  std::vector<int> owner;
  int length = 0;
  for (std::size_t t = 0; t < tracks.size(); ++t) {
    const int total = tracks[t]->n_frames;
    const int len = input_frames > 0 && input_frames < total ? input_frames : total;
    if (length == 0) length = len;
    if (len != length)
      throw Error(ErrorKind::kInvalidArgument, "", "tracks of different lengths in one batch");
    for (int o :
         crop_offsets(total, valid_frames.empty() ? total : valid_frames[t], input_frames)) {
      windows.emplace_back(static_cast<int>(t), o);
      owner.push_back(static_cast<int>(t));
    }
  }
  const torch::Tensor probs = run_windows(model, tracks, windows, length, batch_size, device);
  torch::Tensor out =
      torch::zeros({static_cast<int64_t>(tracks.size()), model.info.arch.n_classes});
  torch::Tensor counts = torch::zeros({static_cast<int64_t>(tracks.size()), 1});
  const torch::Tensor index = torch::tensor(owner, torch::kLong);
  out.index_add_(0, index, probs);
  counts.index_add_(0, index, torch::ones({static_cast<int64_t>(owner.size()), 1}));
  return out / counts.clamp_min(1);
}

torch::Tensor window_probabilities(Model& model, const Spectrogram& track, int hop_frames,
                                   int batch_size, torch::Device device,
                                   std::vector<int>* offsets_out) {
  const int input = model.info.arch.input_frames > 0 ? model.info.arch.input_frames
                                                     : model.info.features.excerpt_frames();
  std::vector<Window> windows;
  std::vector<int> offsets;
  if (track.n_frames <= input) {
    offsets.push_back(0);
  } else {
    for (int o = 0; o + input <= track.n_frames; o += std::max(1, hop_frames)) offsets.push_back(o);
  }
  for (int o : offsets) windows.emplace_back(0, o);
  if (offsets_out) *offsets_out = offsets;
  return run_windows(model, {&track}, windows, input, batch_size, device);
}

}  // namespace genre
