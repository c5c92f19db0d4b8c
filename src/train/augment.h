// genre/train: training batches: crops of the examples' log-mels with their augmentation
// (tempo, pitch, gain, SpecAugment masks, mixup).
#pragma once

#include <random>

#include "features/features.h"
#include "train/trainer.h"

namespace genre {

// Writes an [n_mels x length] crop of `s` (row-major, as copy_crop does) that reads
// `source_frames` frames from `offset` and shifts the mel axis by `shift_bands` bands, both by
// linear interpolation:
//  - time stretch: source_frames > length plays the excerpt faster (squeezed into the crop),
//    < length slower;
//  - shift_bands > 0 moves the content up. Above ~1 kHz the mel axis is close to logarithmic,
//    so one band of the default 96-band, 12 kHz front end is about a semitone: a pitch shift
//    there, a plain shift below.
// Positions outside the spectrogram (or past its valid frames) read its minimum, the value
// copy_crop pads with.
void copy_warped_crop(const Spectrogram& s, int offset, int source_frames, float shift_bands,
                      int length, float* dst);

// One training batch: inputs [B, 1, mels, L] and target distributions [B, classes].
struct Batch {
  torch::Tensor x, target, primary;  // primary: first label of each (unmixed) example
};

// The examples `ids` of `set` as one batch of `length`-frame crops, augmented as `p` says.
Batch make_batch(const std::vector<Example>& set, const std::vector<std::size_t>& ids, int length,
                 int n_classes, bool multi_label, const TrainParams& p, std::mt19937_64& rng);

}  // namespace genre
