#include "model/winograd_conv.h"

#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <immintrin.h>

#include <algorithm>
#include <vector>


namespace genre {
namespace {

constexpr int64_t kTile = 4;        // outputs per tile side
constexpr int64_t kPoints = 36;     // 6 x 6 transformed points per tile
constexpr int64_t kBlockK = 16;     // output channels per pass of the products
constexpr int64_t kGroupTiles = 6;  // tiles per register block of the products
constexpr int64_t kBlockTiles = 24; // tiles transformed together (a multiple of kGroupTiles)

#define GENRE_AVX2_INLINE __attribute__((target("avx2,fma"), always_inline)) inline

// The input transform B^T d along one dimension, 8 channels per vector.
GENRE_AVX2_INLINE void transform_input_1d(const __m256 (&d)[6], __m256 (&o)[6]) {
  const __m256 two = _mm256_set1_ps(2.f), four = _mm256_set1_ps(4.f), five = _mm256_set1_ps(5.f);
  o[0] = _mm256_fmadd_ps(four, d[0], _mm256_fnmadd_ps(five, d[2], d[4]));
  o[1] = _mm256_fnmadd_ps(four, _mm256_add_ps(d[1], d[2]), _mm256_add_ps(d[3], d[4]));
  o[2] = _mm256_fmadd_ps(four, _mm256_sub_ps(d[1], d[2]), _mm256_sub_ps(d[4], d[3]));
  const __m256 d1_minus_d3 = _mm256_sub_ps(d[1], d[3]), d4_minus_d2 = _mm256_sub_ps(d[4], d[2]);
  o[3] = _mm256_fnmadd_ps(two, d1_minus_d3, d4_minus_d2);
  o[4] = _mm256_fmadd_ps(two, d1_minus_d3, d4_minus_d2);
  o[5] = _mm256_fmadd_ps(four, d[1], _mm256_fnmadd_ps(five, d[3], d[5]));
}

// The output transform A^T m along one dimension: 6 points -> 4 outputs.
GENRE_AVX2_INLINE void transform_output_1d(const __m256 (&m)[6], __m256 (&y)[4]) {
  const __m256 sum12 = _mm256_add_ps(m[1], m[2]), diff12 = _mm256_sub_ps(m[1], m[2]);
  const __m256 sum34 = _mm256_add_ps(m[3], m[4]), diff34 = _mm256_sub_ps(m[3], m[4]);
  y[0] = _mm256_add_ps(_mm256_add_ps(m[0], sum12), sum34);
  y[1] = _mm256_fmadd_ps(_mm256_set1_ps(2.f), diff34, diff12);
  y[2] = _mm256_fmadd_ps(_mm256_set1_ps(4.f), sum34, sum12);
  y[3] = _mm256_add_ps(_mm256_fmadd_ps(_mm256_set1_ps(8.f), diff34, diff12), m[5]);
}

// Where the tensors are and how the tiles cover the output.
struct Geometry {
  const float* x;
  int64_t batch_stride, row_stride;  // input, in floats (the column stride is `in_channels`)
  int64_t in_channels, out_channels, height, width;
  int64_t out_height, out_width, tiles_high, tiles_wide, tiles;
  ConvPadding pad;
  const float* weights;  // winograd_weights layout
  const float* bias;     // or nullptr
  float* out;            // [B, out_height, out_width, out_channels]

  struct Tile {
    int64_t n, y, x;  // batch index; top-left output row and column
  };
  Tile tile(int64_t index) const {
    const int64_t per_image = tiles_high * tiles_wide, in_image = index % per_image;
    return {index / per_image, in_image / tiles_wide * kTile, in_image % tiles_wide * kTile};
  }
};

// One tile's 6x6 input patch (zeros outside the input) -> 36 transformed points, 8 channels at
// a time, into v[point][tile][channel] (tile stride `in_channels`, point stride kBlockTiles rows).
__attribute__((target("avx2,fma"))) void transform_input_tile(const Geometry& g, int64_t index,
                                                              float* v) {
  const Geometry::Tile t = g.tile(index);
  const int64_t row0 = t.y - g.pad.top, col0 = t.x - g.pad.left;
  const float* rows[6];
  bool col_inside[6];
  for (int i = 0; i < 6; ++i) {
    const int64_t r = row0 + i, c = col0 + i;
    rows[i] = (r >= 0 && r < g.height) ? g.x + t.n * g.batch_stride + r * g.row_stride : nullptr;
    col_inside[i] = c >= 0 && c < g.width;
  }
  const int64_t point_stride = kBlockTiles * g.in_channels;
  for (int64_t ch = 0; ch < g.in_channels; ch += 8) {
    __m256 across[6][6];  // rows transformed along the columns
    for (int i = 0; i < 6; ++i) {
      __m256 d[6];
      for (int j = 0; j < 6; ++j)
        d[j] = rows[i] && col_inside[j]
                   ? _mm256_loadu_ps(rows[i] + (col0 + j) * g.in_channels + ch)
                   : _mm256_setzero_ps();
      transform_input_1d(d, across[i]);
    }
    for (int j = 0; j < 6; ++j) {
      const __m256 column[6] = {across[0][j], across[1][j], across[2][j],
                                across[3][j], across[4][j], across[5][j]};
      __m256 o[6];
      transform_input_1d(column, o);
      for (int i = 0; i < 6; ++i) _mm256_storeu_ps(v + (i * 6 + j) * point_stride + ch, o[i]);
    }
  }
}

// m[tile][16] = v[tile][:] . u[:][16] for one transformed point, kBlockTiles tiles:
// 6 tiles x 16 output channels in 12 accumulators, 8 loads per 12 multiply-adds.
__attribute__((target("avx2,fma"))) void multiply_point(const float* v, const float* u,
                                                        int64_t in_channels, float* m) {
  for (int64_t t = 0; t < kBlockTiles; t += kGroupTiles) {
    __m256 acc[kGroupTiles][2];
    for (auto& a : acc) a[0] = a[1] = _mm256_setzero_ps();
    const float* vt = v + t * in_channels;
    for (int64_t c = 0; c < in_channels; ++c) {
      const __m256 u0 = _mm256_loadu_ps(u + c * kBlockK), u1 = _mm256_loadu_ps(u + c * kBlockK + 8);
      for (int r = 0; r < kGroupTiles; ++r) {
        const __m256 a = _mm256_broadcast_ss(vt + r * in_channels + c);
        acc[r][0] = _mm256_fmadd_ps(a, u0, acc[r][0]);
        acc[r][1] = _mm256_fmadd_ps(a, u1, acc[r][1]);
      }
    }
    for (int r = 0; r < kGroupTiles; ++r) {
      _mm256_storeu_ps(m + (t + r) * kBlockK, acc[r][0]);
      _mm256_storeu_ps(m + (t + r) * kBlockK + 8, acc[r][1]);
    }
  }
}

// 36 points of one tile (m[point][tile][16]) -> its 4x4 outputs for 16 channels from `k0`, plus
// the bias; outputs past the last row or column are dropped.
__attribute__((target("avx2,fma"))) void transform_output_tile(const Geometry& g, int64_t index,
                                                               const float* m, int64_t k0) {
  const Geometry::Tile t = g.tile(index);
  const int64_t point_stride = kBlockTiles * kBlockK;
  for (int64_t half = 0; half < kBlockK; half += 8) {
    __m256 down[4][6];  // the points' columns transformed along the rows
    for (int j = 0; j < 6; ++j) {
      __m256 column[6];
      for (int i = 0; i < 6; ++i) column[i] = _mm256_loadu_ps(m + (i * 6 + j) * point_stride + half);
      __m256 y[4];
      transform_output_1d(column, y);
      for (int r = 0; r < 4; ++r) down[r][j] = y[r];
    }
    const __m256 bias = g.bias ? _mm256_loadu_ps(g.bias + k0 + half) : _mm256_setzero_ps();
    for (int r = 0; r < 4; ++r) {
      const int64_t row = t.y + r;
      if (row >= g.out_height) break;
      __m256 y[4];
      transform_output_1d(down[r], y);
      float* out = g.out + ((t.n * g.out_height + row) * g.out_width + t.x) * g.out_channels + k0 +
                   half;
      for (int c = 0; c < 4 && t.x + c < g.out_width; ++c)
        _mm256_storeu_ps(out + c * g.out_channels, _mm256_add_ps(y[c], bias));
    }
  }
}

// One block of kBlockTiles tiles from `first`: transform, multiply per point, transform back.
void convolve_block(const Geometry& g, int64_t first, std::vector<float>& v, std::vector<float>& m) {
  const int64_t count = std::min(kBlockTiles, g.tiles - first);
  const int64_t point_stride = kBlockTiles * g.in_channels;
  for (int64_t i = 0; i < count; ++i) transform_input_tile(g, first + i, v.data() + i * g.in_channels);
  for (int64_t i = count; i < kBlockTiles; ++i)  // the last block's unused tiles: zeros
    for (int64_t p = 0; p < kPoints; ++p)
      std::fill_n(v.data() + p * point_stride + i * g.in_channels, g.in_channels, 0.f);
  const int64_t k_blocks = g.out_channels / kBlockK;
  for (int64_t kb = 0; kb < k_blocks; ++kb) {
    for (int64_t p = 0; p < kPoints; ++p)
      multiply_point(v.data() + p * point_stride,
                     g.weights + (p * k_blocks + kb) * g.in_channels * kBlockK, g.in_channels,
                     m.data() + p * kBlockTiles * kBlockK);
    for (int64_t i = 0; i < count; ++i)
      transform_output_tile(g, first + i, m.data() + i * kBlockK, kb * kBlockK);
  }
}

bool cpu_suits() {
  static const bool suits = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                            !__builtin_cpu_supports("avx512f");
  return suits;
}

}  // namespace

bool winograd_weight_applies(const torch::Tensor& weight) {
  return cpu_suits() && weight.defined() && weight.device().type() == torch::kCPU &&
         weight.scalar_type() == torch::kFloat && weight.dim() == 4 && weight.size(2) == 3 &&
         weight.size(3) == 3 && weight.size(1) % 8 == 0 && weight.size(0) % kBlockK == 0;
}

bool winograd_conv3x3_applies(const torch::Tensor& x, const torch::Tensor& weight) {
  // Under bf16 autocast the convs are LibTorch's, in bf16.
  if (!winograd_weight_applies(weight) || !x.defined() || at::autocast::is_cpu_enabled())
    return false;
  if (x.device().type() != torch::kCPU || x.scalar_type() != torch::kFloat || x.dim() != 4)
    return false;
  // A one-column input has any column stride (LibTorch picks one for size-1 dimensions).
  const int64_t channels = x.size(1);
  return channels == weight.size(1) && x.stride(1) == 1 &&
         (x.stride(3) == channels || x.size(3) == 1) && x.size(2) > 0 && x.size(3) > 0;
}

torch::Tensor winograd_weights(const torch::Tensor& weight) {
  TORCH_CHECK(weight.dim() == 4 && weight.size(2) == 3 && weight.size(3) == 3 &&
                  weight.size(0) % kBlockK == 0,
              "winograd_weights: needs a [Cout, Cin, 3, 3] weight with Cout a multiple of 16");
  static const double G[6][3] = {{1.0 / 4, 0, 0},
                                 {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                 {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                 {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                 {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                 {0, 0, 1}};
  const int64_t out_channels = weight.size(0), in_channels = weight.size(1);
  const torch::Tensor w = weight.detach().to(torch::kDouble).contiguous().cpu();
  const double* g = w.data_ptr<double>();
  torch::Tensor packed = torch::empty({kPoints, out_channels / kBlockK, in_channels, kBlockK});
  float* u = packed.data_ptr<float>();
  const int64_t k_blocks = out_channels / kBlockK;
  for (int64_t k = 0; k < out_channels; ++k)
    for (int64_t c = 0; c < in_channels; ++c) {
      const double* f = g + (k * in_channels + c) * 9;
      double gf[6][3];  // G f
      for (int a = 0; a < 6; ++a)
        for (int j = 0; j < 3; ++j)
          gf[a][j] = G[a][0] * f[j] + G[a][1] * f[3 + j] + G[a][2] * f[6 + j];
      for (int a = 0; a < 6; ++a)
        for (int b = 0; b < 6; ++b) {
          const double value = gf[a][0] * G[b][0] + gf[a][1] * G[b][1] + gf[a][2] * G[b][2];
          const int64_t point = a * 6 + b;
          u[((point * k_blocks + k / kBlockK) * in_channels + c) * kBlockK + k % kBlockK] =
              static_cast<float>(value);
        }
    }
  return packed;
}

torch::Tensor winograd_conv3x3(const torch::Tensor& x, const torch::Tensor& packed_weights,
                               const torch::Tensor& bias, ConvPadding padding) {
  const int64_t in_channels = x.size(1), out_channels = packed_weights.size(1) * kBlockK;
  TORCH_CHECK(packed_weights.dim() == 4 && packed_weights.size(0) == kPoints &&
                  packed_weights.size(2) == in_channels && packed_weights.is_contiguous(),
              "winograd_conv3x3: weights not from winograd_weights for this input");
  TORCH_CHECK(x.stride(1) == 1 && (x.stride(3) == in_channels || x.size(3) == 1) &&
                  in_channels % 8 == 0,
              "winograd_conv3x3: needs a channels-last input with channels a multiple of 8");
  Geometry g{};
  g.x = x.data_ptr<float>();
  g.batch_stride = x.stride(0);
  g.row_stride = x.stride(2);
  g.in_channels = in_channels;
  g.out_channels = out_channels;
  g.height = x.size(2);
  g.width = x.size(3);
  g.pad = padding;
  g.out_height = g.height + padding.top + padding.bottom - 2;
  g.out_width = g.width + padding.left + padding.right - 2;
  TORCH_CHECK(g.out_height > 0 && g.out_width > 0, "winograd_conv3x3: input smaller than 3x3");
  g.tiles_high = (g.out_height + kTile - 1) / kTile;
  g.tiles_wide = (g.out_width + kTile - 1) / kTile;
  g.tiles = x.size(0) * g.tiles_high * g.tiles_wide;
  const torch::Tensor u = packed_weights.contiguous();
  g.weights = u.data_ptr<float>();
  torch::Tensor b = bias.defined() ? bias.contiguous() : bias;
  g.bias = b.defined() ? b.data_ptr<float>() : nullptr;
  torch::Tensor out = torch::empty({x.size(0), g.out_height, g.out_width, out_channels});
  g.out = out.data_ptr<float>();
  const int64_t blocks = (g.tiles + kBlockTiles - 1) / kBlockTiles;
  at::parallel_for(0, blocks, 1, [&](int64_t begin, int64_t end) {
    thread_local std::vector<float> v, m;  // reused: no allocation per call
    v.resize(kPoints * kBlockTiles * in_channels);
    m.resize(kPoints * kBlockTiles * kBlockK);
    for (int64_t block = begin; block < end; ++block)
      convolve_block(g, block * kBlockTiles, v, m);
  });
  return out.permute({0, 3, 1, 2});
}

}  // namespace genre
