// genre/train: geometric augmentation of training crops on the log-mel.
#pragma once

#include "features/features.h"

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

}  // namespace genre
