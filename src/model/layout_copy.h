// genre/model: copies between the NCHW layout of a training step's activations and the
// channels-last (NHWC) layout Winograd's convs read and write (winograd_conv.h). LibTorch's own
// `contiguous(ChannelsLast)` took ~5x the memory traffic's time on a 2-core AVX2 machine (290 ms
// for a batch of 32 full excerpts' block-2 input and output); these are 8x8 AVX2 transposes, one
// image's channel block per task.
#pragma once

#include <torch/torch.h>

namespace genre {

// True when the copies below apply: a float CPU tensor [B, C, H, W], C a multiple of 8, and a CPU
// with AVX2 (otherwise LibTorch's contiguous() does the same).
bool layout_copy_applies(const torch::Tensor& x);

// An NCHW-contiguous x as a new channels-last tensor (same sizes, NHWC in memory).
torch::Tensor channels_last_copy(const torch::Tensor& x);

// A channels-last x (channel stride 1, column stride C, row stride W * C) as a new
// NCHW-contiguous tensor.
torch::Tensor channels_first_copy(const torch::Tensor& x);

}  // namespace genre
