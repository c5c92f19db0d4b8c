// genre/model: a training step's batch norm and the max-pool after it, as one op.
//
// In a training step the conv blocks' batch norm and max-pool are memory-bound passes over the
// largest tensors of the model (32 x 96 x 1,366 x 32 floats, 537 MB, after the first conv of a
// batch of full excerpts): statistics, normalise, write, pool, and backwards a zero-filled
// scatter and two more passes. Batch norm is one affine map per channel, so the max of its
// output over a window is the map of the input's max (or min, where the scale is negative):
// here the forward reads the conv output once (statistics and each window's max together) and
// normalises only the pooled values; the backward writes the input gradient in one pass.
#pragma once

#include <torch/torch.h>

namespace genre {

// True when batch_norm_max_pool applies: a contiguous float CPU input [N, C, H, W], `bn` in
// training mode with affine parameters and a fixed momentum, no cross-process batch norm
// (batch_norm.h), no autocast, and `pool` non-overlapping (stride = kernel, no padding or
// dilation, floor mode).
bool batch_norm_max_pool_applies(const torch::nn::BatchNorm2d& bn, const torch::nn::MaxPool2d& pool,
                                 const torch::Tensor& x);

// pool(bn(x)) in training mode, differentiable in x and bn's weight and bias (once: no
// second-order gradients); updates bn's running statistics as bn(x) does.
torch::Tensor batch_norm_max_pool(torch::nn::BatchNorm2d& bn, const torch::nn::MaxPool2d& pool,
                                  const torch::Tensor& x);

}  // namespace genre
