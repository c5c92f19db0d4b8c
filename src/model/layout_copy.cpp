#include "model/layout_copy.h"

#include <ATen/Parallel.h>
#include <immintrin.h>

#include <algorithm>

namespace genre {
namespace {

// dst[j * dst_stride + i] = src[i * src_stride + j] for an 8x8 block.
__attribute__((target("avx2"), always_inline)) inline void transpose8x8(const float* src,
                                                                         int64_t src_stride,
                                                                         float* dst,
                                                                         int64_t dst_stride) {
  __m256 r[8], t[8];
  for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(src + i * src_stride);
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {
    r[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int i = 0; i < 4; ++i) {
    _mm256_storeu_ps(dst + i * dst_stride, _mm256_permute2f128_ps(r[i], r[i + 4], 0x20));
    _mm256_storeu_ps(dst + (i + 4) * dst_stride, _mm256_permute2f128_ps(r[i], r[i + 4], 0x31));
  }
}

// dst[c * rows + i] = src[i * cols + c] for the `count` (<= 8) rows and `width` columns of one
// strip (rows and cols: the whole matrix's sizes, i.e. the strides).
__attribute__((target("avx2"))) void transpose_strip(const float* s, float* d, int64_t count,
                                                     int64_t width, int64_t rows, int64_t cols) {
  int64_t c = 0;
  if (count == 8)
    for (; c + 8 <= width; c += 8) transpose8x8(s + c, cols, d + c * rows, rows);
  for (; c < width; ++c)
    for (int64_t i = 0; i < count; ++i) d[c * rows + i] = s[i * cols + c];
}

// Per image, dst [cols][rows] = src [rows][cols]. A task is a block of 64 columns of one image,
// all its rows in strips of 8: the task's part of dst is written whole while it is in the cache
// (strips over all columns wrote each cache line in pieces, far apart in time).
void transpose_images(const float* src, float* dst, int64_t images, int64_t rows, int64_t cols) {
  constexpr int64_t kBlock = 64;
  const int64_t blocks = (cols + kBlock - 1) / kBlock;
  at::parallel_for(0, images * blocks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t task = begin; task < end; ++task) {
      const int64_t n = task / blocks, c0 = task % blocks * kBlock;
      const int64_t width = std::min(kBlock, cols - c0);
      const float* s = src + n * rows * cols + c0;
      float* d = dst + n * rows * cols + c0 * rows;
      for (int64_t r0 = 0; r0 < rows; r0 += 8)
        transpose_strip(s + r0 * cols, d + r0, std::min<int64_t>(8, rows - r0), width, rows,
                        cols);
    }
  });
}

bool is_nhwc_dense(const torch::Tensor& x) {
  return x.stride(1) == 1 && x.stride(3) == x.size(1) && x.stride(2) == x.size(3) * x.size(1) &&
         x.stride(0) == x.size(1) * x.size(2) * x.size(3);
}

}  // namespace

bool layout_copy_applies(const torch::Tensor& x) {
  static const bool avx2 = __builtin_cpu_supports("avx2");
  return avx2 && x.defined() && x.device().type() == torch::kCPU &&
         x.scalar_type() == torch::kFloat && x.dim() == 4 && x.size(1) % 8 == 0 &&
         x.numel() > 0;
}

torch::Tensor channels_last_copy(const torch::Tensor& x) {
  if (!layout_copy_applies(x)) return x.contiguous(torch::MemoryFormat::ChannelsLast);
  const torch::Tensor src = x.contiguous();
  torch::Tensor out = torch::empty({x.size(0), x.size(2), x.size(3), x.size(1)});
  transpose_images(src.data_ptr<float>(), out.data_ptr<float>(), x.size(0), x.size(1),
                   x.size(2) * x.size(3));
  return out.permute({0, 3, 1, 2});
}

torch::Tensor channels_first_copy(const torch::Tensor& x) {
  if (!layout_copy_applies(x) || !is_nhwc_dense(x)) return x.contiguous();
  torch::Tensor out = torch::empty(x.sizes());
  transpose_images(x.data_ptr<float>(), out.data_ptr<float>(), x.size(0), x.size(2) * x.size(3),
                   x.size(1));
  return out;
}

}  // namespace genre
