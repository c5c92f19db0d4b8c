// genre/model: dropout whose mask comes from a counter-based hash instead of LibTorch's
// per-element Bernoulli draws (a serial generator without MKL: ~8% of a training step of the
// default CRNN, more than its max-pools). One 64-bit seed per call is drawn from LibTorch's
// default generator, so training stays reproducible from torch::manual_seed, and each element's
// keep/drop depends only on the seed and its position, whatever the thread count.
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace genre {

// Inverted dropout: in training each element is zeroed with probability p and the rest scaled
// by 1 / (1 - p); outside training, or with p == 0, `x` itself. Differentiable in x.
torch::Tensor hashed_dropout(const torch::Tensor& x, double p, bool training);

// The mask hashed_dropout multiplies by: 0 or 1 / (1 - p) for each element of `like` (float,
// same shape and memory format), from `seed`.
torch::Tensor hashed_dropout_mask(const torch::Tensor& like, double p, uint64_t seed);

}  // namespace genre
