// genre/model: a training step's ELU and the hashed dropout after it (dropout.h) as one op.
//
// Apart, they are five passes over each conv block's pooled output: ELU, the mask, the product,
// and backwards the product's and ELU's gradients, with a mask tensor kept from the forward to the
// backward. Here the forward is LibTorch's ELU and the mask applied in place, from the hash, and
// the backward one pass: the mask is hashed again, and ELU's derivative comes from the output
// (where x <= 0, elu'(x) = exp(x) = elu(x) + 1), so nothing else is kept.
#pragma once

#include <torch/torch.h>

namespace genre {

// True when elu_dropout applies: a contiguous float CPU tensor and no autocast.
bool elu_dropout_applies(const torch::Tensor& x);

// hashed_dropout(elu(x), p, true) for 0 < p < 1, with the same mask for the same generator state,
// differentiable in x (once).
torch::Tensor elu_dropout(const torch::Tensor& x, double p);

}  // namespace genre
