#include "model/dropout.h"

#include <ATen/Parallel.h>

#include <limits>

namespace genre {

namespace {

__attribute__((target_clones("avx2", "default"))) void fill_mask(float* out, int64_t begin,
                                                                 int64_t end, uint64_t seed,
                                                                 uint32_t threshold, float scale) {
  for (int64_t i = begin; i < end; ++i) out[i] = dropout_hash(seed, i) >= threshold ? scale : 0.0f;
}

}  // namespace

uint64_t draw_dropout_seed() {
  // One draw from LibTorch's default generator, as torch::dropout would make.
  return static_cast<uint64_t>(
      torch::randint(std::numeric_limits<int64_t>::max(), {1}, torch::kLong).item<int64_t>());
}

torch::Tensor hashed_dropout_mask(const torch::Tensor& like, double p, uint64_t seed) {
  torch::Tensor mask =
      torch::empty_like(like, like.options().dtype(torch::kFloat32).requires_grad(false));
  const uint32_t threshold = dropout_threshold(p);
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
  return x * hashed_dropout_mask(x, p, draw_dropout_seed()).to(x.scalar_type());
}

}  // namespace genre
