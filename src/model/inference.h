// genre/model: running a model on log-mel excerpts, with the excerpt policy shared by
// evaluation and prediction (so both always see what training saw).
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "../features/features.h"
#include "model_file.h"

namespace genre {

// "auto" -> CUDA when LibTorch has it, else CPU. Throws genre::Error for cuda without CUDA.
torch::Device resolve_device(const std::string& name);

// Offsets of the model-sized windows over a spectrogram of `total_frames` whose first
// `valid_frames` hold signal. input_frames == 0 or >= total: one window covering everything.
// Otherwise windows of input_frames every `hop` frames (default input_frames / 2) over the valid
// part, the last one flush with its end.
std::vector<int> crop_offsets(int total_frames, int valid_frames, int input_frames, int hop = 0);

// Copies frames [offset, offset + length) of a spectrogram into dst ([n_mels, length]),
// zero... padding with the spectrogram's minimum beyond its end.
void copy_crop(const Spectrogram& s, int offset, int length, float* dst);

// How the crops of one excerpt go through the model.
enum class CropPolicy {
  // The conv blocks run once over the whole excerpt and each crop's GRU reads its slice of that
  // feature map (crop offsets rounded down to the time pooling). Overlapping crops share their
  // convolutions, ~2x less work; only the conv padding at crop borders differs from kIndependent.
  // Falls back to kIndependent for models where slicing does not line up (see shares_conv).
  kSharedConv,
  // Every crop through the whole model on its own, exactly as in training.
  kIndependent,
};

// True when kSharedConv applies to this architecture: trained on crops (input_frames > 0), the
// crop length a multiple of the total time pooling, no fixed time padding or per-frame input norm.
bool shares_conv(const ArchConfig& arch);

// Crops of `crop_frames` that one pass of the model takes for a requested `batch_size`: on the
// CPU no more than fit in 2,048 frames (longer batches were slower and took more memory), at
// least one.
int crops_per_pass(int crop_frames, int batch_size, torch::Device device);

// Track-level probabilities [N, classes]: the mean over crop_offsets() windows of each track.
torch::Tensor track_probabilities(Model& model, const std::vector<const Spectrogram*>& tracks,
                                  const std::vector<int>& valid_frames, int batch_size,
                                  torch::Device device,
                                  CropPolicy policy = CropPolicy::kSharedConv);

// Probabilities of successive windows of one whole-track spectrogram, window length
// model.info.arch.input_frames (or the excerpt length when 0), every hop_frames: [windows,
// classes].
torch::Tensor window_probabilities(Model& model, const Spectrogram& track, int hop_frames,
                                   int batch_size, torch::Device device,
                                   std::vector<int>* offsets = nullptr);

}  // namespace genre
