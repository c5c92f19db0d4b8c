// genre/model: 3x3 convolutions for inference by Winograd's minimal filtering, F(4x4, 3x3)
// (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016). Each 4x4 block of
// outputs comes from a 6x6 patch of input: both are transformed so that the 9 x 16 = 144
// multiply-adds per input/output channel pair become 36, i.e. 4x fewer than a direct conv.
// oneDNN (LibTorch's CPU convs) has Winograd only for AVX-512; on AVX2 machines it runs the
// direct conv at ~90% of the peak multiply-add rate, so the arithmetic itself is the lever left
// (bench_machine). Here the input and output transforms run 8 channels per AVX2 vector on
// channels-last (NHWC) tensors, the form the CPU inference path keeps, and the 36 products are
// register-blocked sums (6 tiles x 16 output channels per step).
//
// The results differ from a direct conv by rounding only: the transforms' coefficients (up to 8
// and 1/24) cost about one decimal digit, a few 1e-6 of the output's largest value in float
// (tests/model/test_winograd_conv.cpp).
#pragma once

#include <torch/torch.h>

#include <array>

namespace genre {

// True when winograd_conv3x3 applies: a float CPU input [B, Cin, H, W] laid out channels-last
// (channel stride 1, column stride Cin; any row and batch strides, so slices of frames need no
// copy), Cin a multiple of 8 (the first conv's one channel stays oneDNN's), a float
// [Cout, Cin, 3, 3] weight with Cout a multiple of 16, no autocast (bf16 stays LibTorch's), and
// a CPU with AVX2 and FMA but not AVX-512 (where oneDNN's faster direct convs were not measured
// against this).
bool winograd_conv3x3_applies(const torch::Tensor& x, const torch::Tensor& weight);

// True when a [Cout, Cin, 3, 3] float weight suits winograd_conv3x3 on this CPU (the weight's
// half of winograd_conv3x3_applies), i.e. when winograd_weights are worth keeping for it.
bool winograd_weight_applies(const torch::Tensor& weight);

// The weight [Cout, Cin, 3, 3] transformed once (G g G^T per channel pair, in double) and packed
// as [36][Cout / 16][Cin][16] for the products' inner loop.
torch::Tensor winograd_weights(const torch::Tensor& weight);

// Zero padding of a conv's input in rows (mels) and columns (frames).
struct ConvPadding {
  int64_t top = 1, bottom = 1, left = 1, right = 1;
};

// conv2d(x, weight, bias, stride 1) with `padding` (each side 0 or 1), from winograd_weights(
// weight). Output [B, Cout, H + top + bottom - 2, W + left + right - 2], channels-last.
// Forward only (no autograd); needs winograd_conv3x3_applies.
torch::Tensor winograd_conv3x3(const torch::Tensor& x, const torch::Tensor& packed_weights,
                               const torch::Tensor& bias, ConvPadding padding = {});

}  // namespace genre
