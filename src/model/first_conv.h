// genre/model: the first conv block's 3x3 convolution of a one-channel spectrogram, with a
// backward pass written for that shape. oneDNN's backward for one input channel runs at a
// fraction of its forward speed (906 ms against 109 ms for a batch of 32 full-length excerpts on
// a 2-core AVX2 machine, the largest single op of a training step); here the input gradient is
// a 3-tap row filter per channel, and the weight and bias gradients come from one pass of
// register-blocked sums over the output gradient.
#pragma once

#include <torch/torch.h>

namespace genre {

// True when first_conv3x3 applies: a float CPU input [B, 1, H, W], a [C, 1, 3, 3] weight, and
// no autocast (which wants LibTorch's own conv in bf16).
bool first_conv3x3_applies(const torch::Tensor& x, const torch::Tensor& weight);

// conv2d(x, weight, bias, stride 1, padding 1), differentiable in all three.
torch::Tensor first_conv3x3(const torch::Tensor& x, const torch::Tensor& weight,
                            const torch::Tensor& bias);

}  // namespace genre
