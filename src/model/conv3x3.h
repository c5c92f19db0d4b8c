// genre/model: the conv blocks' 3x3 convolutions in a training step. oneDNN (LibTorch's CPU
// convs) runs these convs' forward and input gradient at 88-100% of an AVX2 machine's peak
// multiply-add rate, but their weight gradient at 63-69% (bench_machine, and
// convolution_backward split by output, on a 2-core AVX2 EPYC). Here:
//   - the forward and the input gradient are Winograd F(4x4, 3x3) convs (winograd_conv.h, a
//     quarter of the multiply-adds) through AVX2 layout copies (layout_copy.h) where the channel
//     counts suit them (Cin and Cout multiples of 8 and 16 each way), else LibTorch's;
//   - the weight and bias gradients, on rows of 256 columns or more, are register-blocked AVX2
//     sums over the output rows (12 accumulators, 7 loads per 12 multiply-adds): 20% faster than
//     oneDNN's for the default CRNN's second block, 9% for its third; shorter rows keep oneDNN's.
#pragma once

#include <torch/torch.h>

namespace genre {

// True when conv3x3_training applies: a float CPU NCHW-contiguous input [B, Cin, H, W] with
// Cin > 1 (first_conv.h has the one-channel case) and either rows of 256 columns or more (for
// the weight-gradient kernel) or channels that suit the Winograd forward, a float
// [Cout, Cin, 3, 3] weight, no autocast, and a CPU with AVX2 and FMA but not AVX-512 (where
// oneDNN's AVX-512 kernels were not measured against these).
bool conv3x3_training_applies(const torch::Tensor& x, const torch::Tensor& weight);

// conv2d(x, weight, bias, stride 1, padding 1), differentiable in all three (any width).
torch::Tensor conv3x3_training(const torch::Tensor& x, const torch::Tensor& weight,
                               const torch::Tensor& bias);

// d loss / d weight [Cout, Cin, 3, 3] and d loss / d bias [Cout] of a stride-1, padding-1 3x3
// conv, from its input [B, Cin, H, W] and output gradient [B, Cout, H, W] (contiguous float).
// Rows of the output go to a fixed number of blocks, summed in double and added in order: the
// same bits for any thread count. Needs AVX2 and FMA (conv3x3_training_applies).
std::pair<torch::Tensor, torch::Tensor> conv3x3_weight_gradient(const torch::Tensor& x,
                                                                const torch::Tensor& grad);

}  // namespace genre
