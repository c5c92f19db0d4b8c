#include "model/dropout.h"

#include <ATen/Parallel.h>

#include <limits>

namespace genre {

namespace {

// murmur3's 32-bit finaliser: every input bit moves every output bit; vectorises with AVX2.
inline uint32_t mix32(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

// Element i of the mask: two rounds keyed by both halves of the seed (positions past 2^32 fold
// their high bits into the key).
__attribute__((target_clones("avx2", "default"))) void fill_mask(float* out, int64_t begin,
                                                                 int64_t end, uint64_t seed,
                                                                 uint32_t threshold, float scale) {
  const uint32_t key_low = static_cast<uint32_t>(seed);
  const uint32_t key_high = static_cast<uint32_t>(seed >> 32);
  for (int64_t i = begin; i < end; ++i) {
    const uint32_t position = static_cast<uint32_t>(i);
    const uint32_t fold = static_cast<uint32_t>(static_cast<uint64_t>(i) >> 32) * 0x9e3779b9u;
    const uint32_t h = mix32(mix32(position ^ key_low ^ fold) + key_high);
    out[i] = h >= threshold ? scale : 0.0f;
  }
}

}  // namespace

torch::Tensor hashed_dropout_mask(const torch::Tensor& like, double p, uint64_t seed) {
  torch::Tensor mask =
      torch::empty_like(like, like.options().dtype(torch::kFloat32).requires_grad(false));
  // An element is dropped when its hash is below p * 2^32 (p < 1, so the threshold fits).
  const uint32_t threshold = static_cast<uint32_t>(p * 4294967296.0);
  const float scale = static_cast<float>(1.0 / (1.0 - p));
  float* out = mask.data_ptr<float>();  // dense in whatever order empty_like chose
  at::parallel_for(0, mask.numel(), 1 << 16, [&](int64_t begin, int64_t end) {
    fill_mask(out, begin, end, seed, threshold, scale);
  });
  return mask;
}

torch::Tensor hashed_dropout(const torch::Tensor& x, double p, bool training) {
  if (!training || p <= 0) return x;
  TORCH_CHECK(p < 1, "dropout probability must be in [0, 1)");
  if (x.is_cuda()) return torch::dropout(x, p, true);  // CUDA's own generator is fast
  // One draw from LibTorch's default generator for the device, as torch::dropout would make.
  const uint64_t seed = static_cast<uint64_t>(
      torch::randint(std::numeric_limits<int64_t>::max(), {1}, torch::kLong).item<int64_t>());
  return x * hashed_dropout_mask(x, p, seed).to(x.scalar_type());
}

}  // namespace genre
