// genre/predict: --segments over a long file in bounded memory.
//
// The whole-track path holds the decoded file, the resampled signal and the log-mel at once
// (1.24 GB for a 3-hour WAV). Here the log-mel is streamed twice (features/logmel_stream.h): a
// first pass finds the track's peak (top_db clipping is relative to it) and its last frame above
// the floor; the second runs the model's crops a group at a time as their frames arrive. The crop
// probabilities are identical to window_probabilities() over the whole log-mel: the same frames,
// the same crops, in the same batches.
#pragma once

#include <string>
#include <vector>

#include "../model/inference.h"
#include "../model/model_file.h"

namespace genre {

struct StreamedCrops {
  torch::Tensor probabilities;  // [crops, classes]
  std::vector<int> offsets;     // first frame of each crop
  int valid_frames = 0;         // signal_frames() of the whole log-mel
};

// Whether --segments streams `path`: a file longer than `above_seconds` whose format allows it.
bool should_stream_segments(const std::string& path, double above_seconds = 600);

// Crops of the model's length every `hop_frames` over the whole file, as
// window_probabilities(model, logmel_whole(load_mono(path)), hop_frames, ...) computes them.
StreamedCrops streamed_crop_probabilities(Model& model, const std::string& path, int hop_frames,
                                          int batch_size, torch::Device device);

}  // namespace genre
