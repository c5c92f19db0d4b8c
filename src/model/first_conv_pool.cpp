#include "model/first_conv_pool.h"

#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <immintrin.h>

#include <algorithm>
#include <vector>

namespace genre {
namespace {

constexpr int64_t kColumns = 6;  // conv outputs computed together: 6 FMA chains + 9 weights

struct Shape {
  int64_t height, width, out_channels, pool_rows, pool_cols, pooled_height, pooled_width;
};

// One conv output row (row `y` of the input padded by one on every side) for 8 channels:
// conv[x][8] for x < `columns`, the weights w[9] of these channels held in registers.
__attribute__((target("avx2,fma"))) void conv_row(const float* padded, int64_t padded_width,
                                                  int64_t y, int64_t columns, const float* w,
                                                  float* conv) {
  __m256 taps[9];
  for (int t = 0; t < 9; ++t) taps[t] = _mm256_loadu_ps(w + t * 8);
  const float* rows[3] = {padded + y * padded_width, padded + (y + 1) * padded_width,
                          padded + (y + 2) * padded_width};
  int64_t x = 0;
  for (; x + kColumns <= columns; x += kColumns) {
    __m256 acc[kColumns];
    for (auto& a : acc) a = _mm256_setzero_ps();
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j)
        for (int c = 0; c < kColumns; ++c)
          acc[c] = _mm256_fmadd_ps(_mm256_broadcast_ss(rows[i] + x + c + j), taps[i * 3 + j], acc[c]);
    for (int c = 0; c < kColumns; ++c) _mm256_storeu_ps(conv + (x + c) * 8, acc[c]);
  }
  for (; x < columns; ++x) {  // the same sums, one column at a time
    __m256 acc = _mm256_setzero_ps();
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j)
        acc = _mm256_fmadd_ps(_mm256_broadcast_ss(rows[i] + x + j), taps[i * 3 + j], acc);
    _mm256_storeu_ps(conv + x * 8, acc);
  }
}

// One pooled row of 8 channels from its pool_rows conv rows: max over each window, then the bias
// (the same for the whole window, so adding it after the max gives the same maximum).
__attribute__((target("avx2,fma"))) void pool_row(const Shape& s, const float* conv,
                                                  int64_t conv_stride, const float* bias,
                                                  float* out) {
  const __m256 b = _mm256_loadu_ps(bias);
  for (int64_t px = 0; px < s.pooled_width; ++px) {
    __m256 best = _mm256_loadu_ps(conv + px * s.pool_cols * 8);
    for (int64_t r = 0; r < s.pool_rows; ++r)
      for (int64_t c = 0; c < s.pool_cols; ++c)
        best = _mm256_max_ps(best,
                             _mm256_loadu_ps(conv + r * conv_stride + (px * s.pool_cols + c) * 8));
    _mm256_storeu_ps(out + px * s.out_channels, _mm256_add_ps(best, b));
  }
}

bool cpu_suits() {
  static const bool suits = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                            !__builtin_cpu_supports("avx512f");
  return suits;
}

}  // namespace

bool first_conv_pool_applies(const torch::Tensor& x, const torch::Tensor& weight) {
  return cpu_suits() && x.defined() && weight.defined() && x.device().type() == torch::kCPU &&
         x.scalar_type() == torch::kFloat && x.dim() == 4 && x.size(1) == 1 &&
         (x.stride(3) == 1 || x.size(3) == 1) && weight.scalar_type() == torch::kFloat &&
         weight.device().type() == torch::kCPU && weight.dim() == 4 && weight.size(1) == 1 &&
         weight.size(2) == 3 && weight.size(3) == 3 && weight.size(0) % 8 == 0 &&
         !at::autocast::is_cpu_enabled();
}

torch::Tensor first_conv_pool(const torch::Tensor& x, const torch::Tensor& weight,
                              const torch::Tensor& bias, std::pair<int64_t, int64_t> pool) {
  TORCH_CHECK(first_conv_pool_applies(x, weight), "first_conv_pool: input or weight unsuited");
  TORCH_CHECK(pool.first >= 1 && pool.second >= 1, "first_conv_pool: bad pool size");
  const int64_t batch = x.size(0), out_channels = weight.size(0);
  const Shape s{x.size(2),          x.size(3),          out_channels,
                pool.first,         pool.second,        x.size(2) / pool.first,
                x.size(3) / pool.second};
  // Weights as [Cout / 8][9 taps][8], bias as [Cout] (zeros without one).
  const torch::Tensor w =
      weight.detach().reshape({out_channels / 8, 8, 9}).transpose(1, 2).contiguous();
  const torch::Tensor b = bias.defined() ? bias.detach().contiguous()
                                         : torch::zeros({out_channels}, weight.options());
  torch::Tensor out = torch::empty({batch, s.pooled_height, s.pooled_width, out_channels});
  if (out.numel() == 0) return out.permute({0, 3, 1, 2});
  // The input padded by one on every side, once per image (0.7 MB for a 29 s excerpt).
  const int64_t padded_width = s.width + 2, padded_height = s.height + 2;
  torch::Tensor padded = torch::zeros({batch, padded_height, padded_width});
  padded.narrow(1, 1, s.height).narrow(2, 1, s.width).copy_(x.select(1, 0));
  const float* pad = padded.data_ptr<float>();
  const float* wp = w.data_ptr<float>();
  const float* bp = b.data_ptr<float>();
  float* op = out.data_ptr<float>();
  const int64_t columns = s.pooled_width * s.pool_cols;  // conv columns any window reads
  at::parallel_for(0, batch * s.pooled_height, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> conv(s.pool_rows * columns * 8);
    for (int64_t task = begin; task < end; ++task) {
      const int64_t n = task / s.pooled_height, py = task % s.pooled_height;
      const float* image = pad + n * padded_height * padded_width;
      float* row_out = op + (n * s.pooled_height + py) * s.pooled_width * out_channels;
      for (int64_t group = 0; group < out_channels / 8; ++group) {
        for (int64_t r = 0; r < s.pool_rows; ++r)
          conv_row(image, padded_width, py * s.pool_rows + r, columns, wp + group * 72,
                   conv.data() + r * columns * 8);
        pool_row(s, conv.data(), columns * 8, bp + group * 8, row_out + group * 8);
      }
    }
  });
  return out.permute({0, 3, 1, 2});
}

}  // namespace genre
