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

// One 64-bit seed for a dropout call, drawn from LibTorch's default CPU generator (so
// torch::manual_seed fixes it).
uint64_t draw_dropout_seed();

// murmur3's 32-bit finaliser: every input bit moves every output bit; vectorises with AVX2.
inline uint32_t dropout_mix32(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

// The hash that decides element i of a dropout mask: two rounds keyed by both halves of the seed
// (positions past 2^32 fold their high bits into the key). Element i is dropped when the hash is
// below p * 2^32.
inline uint32_t dropout_hash(uint64_t seed, int64_t i) {
  const uint32_t position = static_cast<uint32_t>(i);
  const uint32_t fold = static_cast<uint32_t>(static_cast<uint64_t>(i) >> 32) * 0x9e3779b9u;
  return dropout_mix32(dropout_mix32(position ^ static_cast<uint32_t>(seed) ^ fold) +
                       static_cast<uint32_t>(seed >> 32));
}

// p * 2^32 (p < 1, so it fits).
inline uint32_t dropout_threshold(double p) { return static_cast<uint32_t>(p * 4294967296.0); }

// The mask hashed_dropout multiplies by: 0 or 1 / (1 - p) for each element of `like` (float,
// same shape and memory format), from `seed`.
torch::Tensor hashed_dropout_mask(const torch::Tensor& like, double p, uint64_t seed);

}  // namespace genre
