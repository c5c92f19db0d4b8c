// genre/model: the inference form of a first conv block, one input channel: 3x3 conv (batch norm
// folded in) and max-pool in one pass, channels-last out. oneDNN runs a one-channel conv at a
// quarter of the machine's peak (bench_machine), and its full-resolution output (64 channels x
// 96 mels x 1,813 frames, 44.5 MB for the shipped model's excerpt) is written only to be pooled.
// Here each window's conv outputs are computed into a small row buffer, 8 output channels per AVX2
// vector with the nine taps' weights held in registers, and only the pooled maxima are written.
#pragma once

#include <torch/torch.h>

#include <utility>

namespace genre {

// True when first_conv_pool applies: a float CPU input [B, 1, H, W] with unit column stride, a
// float [Cout, 1, 3, 3] weight with Cout a multiple of 8, no autocast, and a CPU with AVX2 and
// FMA but not AVX-512.
bool first_conv_pool_applies(const torch::Tensor& x, const torch::Tensor& weight);

// max_pool2d(conv2d(x, weight, bias, stride 1, padding 1), pool) (pool stride = pool size, no
// padding, the last partial windows dropped), as [B, Cout, H / pool.first, W / pool.second]
// channels-last. Sums in the same order for every output: the same bits for any thread count.
// Forward only (no autograd); needs first_conv_pool_applies.
torch::Tensor first_conv_pool(const torch::Tensor& x, const torch::Tensor& weight,
                              const torch::Tensor& bias, std::pair<int64_t, int64_t> pool);

}  // namespace genre
