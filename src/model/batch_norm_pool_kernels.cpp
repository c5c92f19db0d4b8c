#include "model/batch_norm_pool_kernels.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>

namespace genre::bn_pool {

namespace {

constexpr int kLanes = 8;  // two AVX2 registers of doubles per sum

bool cpu_has_avx2() {
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
}

// pool_window_row for any window, KW > 0 fixing its width when compiling. One pass over the row of
// windows per window position (i, j), every store unconditional (a select, not a branch), so the
// loop over windows vectorises. (A NaN makes its channel's statistics, so every output of the
// channel, NaN anyway.)
template <int KW, bool LARGEST>
__attribute__((always_inline)) inline void pool_row(const float* __restrict top, int64_t width,
                                                    int64_t kh, int64_t kw_runtime, int64_t outputs,
                                                    float* __restrict value,
                                                    uint8_t* __restrict position) {
  const int64_t kw = KW > 0 ? KW : kw_runtime;
  constexpr int64_t kChunk = 64;  // positions kept in int32 while selecting: that vectorises
  int32_t chosen[kChunk];
  for (int64_t start = 0; start < outputs; start += kChunk) {
    const int64_t count = std::min(kChunk, outputs - start);
    float* __restrict best_value = value + start;
    const float* __restrict first = top + start * kw;
    for (int64_t wo = 0; wo < count; ++wo) {
      best_value[wo] = first[wo * kw];
      chosen[wo] = 0;
    }
    for (int64_t i = 0; i < kh; ++i) {
      const float* row = first + i * width;
      for (int64_t j = i == 0 ? 1 : 0; j < kw; ++j) {
        const auto here = static_cast<int32_t>(i * kw + j);
        for (int64_t wo = 0; wo < count; ++wo) {
          const float v = row[wo * kw + j], best = best_value[wo];
          // All ones where v wins; strict, so ties keep the first.
          const int32_t wins = -static_cast<int32_t>(LARGEST ? v > best : v < best);
          best_value[wo] = LARGEST ? std::max(best, v) : std::min(best, v);
          chosen[wo] ^= (chosen[wo] ^ here) & wins;
        }
      }
    }
    for (int64_t wo = 0; wo < count; ++wo) position[start + wo] = static_cast<uint8_t>(chosen[wo]);
  }
}

template <bool LARGEST>
__attribute__((always_inline)) inline void pool_row_any(const float* top, int64_t width, int64_t kh,
                                                        int64_t kw, int64_t outputs, float* value,
                                                        uint8_t* position) {
  switch (kw) {
    case 2:
      return pool_row<2, LARGEST>(top, width, kh, kw, outputs, value, position);
    case 3:
      return pool_row<3, LARGEST>(top, width, kh, kw, outputs, value, position);
    case 4:
      return pool_row<4, LARGEST>(top, width, kh, kw, outputs, value, position);
    default:
      return pool_row<0, LARGEST>(top, width, kh, kw, outputs, value, position);
  }
}

// One clone per CPU level (target_clones does not apply to templates).
__attribute__((target_clones("avx2", "default"))) void pool_row_portable(
    const float* top, int64_t width, int64_t kh, int64_t kw, int64_t outputs, bool largest,
    float* value, uint8_t* position) {
  if (largest)
    pool_row_any<true>(top, width, kh, kw, outputs, value, position);
  else
    pool_row_any<false>(top, width, kh, kw, outputs, value, position);
}

// Eight 2 x 2 windows at a time: each row's pairs first (the right one wins only if strictly
// better), then the two rows (the lower wins only if strictly better), which is max_pool2d's
// first-in-row-major choice. Returns how many windows it did; the rest go the portable way.
template <bool LARGEST>
__attribute__((target("avx2"))) int64_t pool_2x2_avx2(const float* top, int64_t width,
                                                      int64_t outputs, float* value,
                                                      uint8_t* position) {
  constexpr int kBetter = LARGEST ? _CMP_GT_OQ : _CMP_LT_OQ;
  const __m256i one = _mm256_set1_epi32(1), two = _mm256_set1_epi32(2);
  // The low byte of each 32-bit lane, per 128-bit half.
  const __m256i low_bytes =
      _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 4, 8, 12, -1,
                       -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
  int64_t wo = 0;
  for (; wo + 8 <= outputs; wo += 8) {
    __m256 rows_best[2];
    __m256i rows_right[2];
    for (int i = 0; i < 2; ++i) {
      const float* row = top + i * width + 2 * wo;
      const __m256 p = _mm256_loadu_ps(row), q = _mm256_loadu_ps(row + 8);
      // Lanes hold windows 0 1 4 5 | 2 3 6 7 after the shuffles.
      const __m256 left = _mm256_shuffle_ps(p, q, 0x88), right = _mm256_shuffle_ps(p, q, 0xDD);
      rows_right[i] =
          _mm256_and_si256(_mm256_castps_si256(_mm256_cmp_ps(right, left, kBetter)), one);
      rows_best[i] = LARGEST ? _mm256_max_ps(left, right) : _mm256_min_ps(left, right);
    }
    const __m256 lower = _mm256_cmp_ps(rows_best[1], rows_best[0], kBetter);
    const __m256 v = LARGEST ? _mm256_max_ps(rows_best[0], rows_best[1])
                             : _mm256_min_ps(rows_best[0], rows_best[1]);
    const __m256i p = _mm256_blendv_epi8(rows_right[0], _mm256_or_si256(rows_right[1], two),
                                         _mm256_castps_si256(lower));
    // Back to windows 0..7: 64-bit pairs (0 1)(4 5)(2 3)(6 7) -> (0 1)(2 3)(4 5)(6 7).
    _mm256_storeu_ps(value + wo,
                     _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(v), 0xD8)));
    const __m256i bytes = _mm256_shuffle_epi8(_mm256_permute4x64_epi64(p, 0xD8), low_bytes);
    const auto low = static_cast<uint32_t>(_mm256_extract_epi32(bytes, 0));
    const auto high = static_cast<uint32_t>(_mm256_extract_epi32(bytes, 4));
    std::memcpy(position + wo, &low, 4);
    std::memcpy(position + wo + 4, &high, 4);
  }
  return wo;
}

// k * g where `chosen`, +0 elsewhere, with bit operations: which value of a window was chosen is
// random, and a branch (which GCC makes of a plain select here) mispredicts.
__attribute__((always_inline)) inline float gradient_if(bool chosen, float kg) {
  uint32_t bits;
  std::memcpy(&bits, &kg, 4);
  bits &= 0u - static_cast<uint32_t>(chosen);
  std::memcpy(&kg, &bits, 4);
  return kg;
}

// input_gradient_row for windows of KW columns (KW > 0 when known when compiling). The same
// operations, so the same bits, as the AVX2 path.
template <int KW>
__attribute__((always_inline)) inline void gradient_row(const float* __restrict x,
                                                        float* __restrict out, int64_t n, int64_t i,
                                                        int64_t kw_runtime, int64_t first_window,
                                                        int64_t outputs, const float* __restrict g,
                                                        const uint8_t* __restrict position, float k,
                                                        float a, float b) {
  const int64_t kw = KW > 0 ? KW : kw_runtime;
  for (int64_t wo = first_window; wo < outputs; ++wo) {
    const float kg = k * g[wo];
    const int64_t chosen = position[wo] - i * kw;  // a column of this row, or outside [0, kw)
    for (int64_t j = 0; j < kw; ++j) {
      const int64_t w = wo * kw + j;
      out[w] = a * x[w] + b + gradient_if(chosen == j, kg);
    }
  }
  for (int64_t w = outputs * kw; w < n; ++w) out[w] = a * x[w] + b + 0.0f;
}

__attribute__((target_clones("avx2", "default"))) void gradient_row_portable(
    const float* x, float* out, int64_t n, int64_t i, int64_t kw, int64_t first_window,
    int64_t outputs, const float* g, const uint8_t* position, float k, float a, float b) {
  switch (kw) {
    case 2:
      return gradient_row<2>(x, out, n, i, kw, first_window, outputs, g, position, k, a, b);
    case 3:
      return gradient_row<3>(x, out, n, i, kw, first_window, outputs, g, position, k, a, b);
    case 4:
      return gradient_row<4>(x, out, n, i, kw, first_window, outputs, g, position, k, a, b);
    default:
      return gradient_row<0>(x, out, n, i, kw, first_window, outputs, g, position, k, a, b);
  }
}

// Four 2-column windows (eight values) at a time: each window's k * g and position spread over
// its two lanes, kept where the position is this lane's. Same operations, so the same bits, as
// gradient_row. Returns how many windows it did.
__attribute__((target("avx2"))) int64_t gradient_row_kw2_avx2(const float* x, float* out, int64_t i,
                                                              int64_t outputs, const float* g,
                                                              const uint8_t* position, float k,
                                                              float a, float b) {
  const __m256 va = _mm256_set1_ps(a), vb = _mm256_set1_ps(b), vk = _mm256_set1_ps(k);
  const __m256i spread = _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3);
  const auto first = static_cast<int>(2 * i);
  const __m256i lane_position =
      _mm256_setr_epi32(first, first + 1, first, first + 1, first, first + 1, first, first + 1);
  int64_t wo = 0;
  for (; wo + 4 <= outputs; wo += 4) {
    const __m256 kg = _mm256_mul_ps(vk, _mm256_castps128_ps256(_mm_loadu_ps(g + wo)));
    int32_t four;
    std::memcpy(&four, position + wo, 4);
    const __m256i p = _mm256_cvtepu8_epi32(_mm_cvtsi32_si128(four));
    const __m256 chosen = _mm256_castsi256_ps(
        _mm256_cmpeq_epi32(_mm256_permutevar8x32_epi32(p, spread), lane_position));
    const __m256 extra = _mm256_and_ps(chosen, _mm256_permutevar8x32_ps(kg, spread));
    const __m256 affine = _mm256_add_ps(_mm256_mul_ps(va, _mm256_loadu_ps(x + 2 * wo)), vb);
    _mm256_storeu_ps(out + 2 * wo, _mm256_add_ps(affine, extra));
  }
  return wo;
}

}  // namespace

__attribute__((target_clones("avx2", "default"))) void add_row_sums(const float* row, int64_t n,
                                                                    double shift, Sums& out) {
  double sum[kLanes] = {}, squares[kLanes] = {};
  const int64_t whole = n / kLanes * kLanes;
  for (int64_t w = 0; w < whole; w += kLanes)
    for (int l = 0; l < kLanes; ++l) {
      const double d = static_cast<double>(row[w + l]) - shift;
      sum[l] += d;
      squares[l] += d * d;
    }
  for (int64_t w = whole; w < n; ++w) {
    const double d = static_cast<double>(row[w]) - shift;
    out.sum += d;
    out.squares += d * d;
  }
  for (int l = 0; l < kLanes; ++l) {
    out.sum += sum[l];
    out.squares += squares[l];
  }
}

void pool_window_row(const float* top, int64_t width, int64_t kh, int64_t kw, int64_t outputs,
                     bool largest, float* value, uint8_t* position) {
  int64_t done = 0;
  if (kh == 2 && kw == 2 && cpu_has_avx2())
    done = largest ? pool_2x2_avx2<true>(top, width, outputs, value, position)
                   : pool_2x2_avx2<false>(top, width, outputs, value, position);
  if (done == outputs) return;
  top += done * kw;
  pool_row_portable(top, width, kh, kw, outputs - done, largest, value + done, position + done);
}

__attribute__((target_clones("avx2", "default"))) void add_gradient_sums(const float* g,
                                                                         const float* chosen,
                                                                         int64_t n, float mean,
                                                                         GradientSums& out) {
  double grad[kLanes] = {}, centred[kLanes] = {};
  const int64_t whole = n / kLanes * kLanes;
  for (int64_t k = 0; k < whole; k += kLanes)
    for (int l = 0; l < kLanes; ++l) {
      grad[l] += g[k + l];
      centred[l] += static_cast<double>(g[k + l]) * (chosen[k + l] - mean);
    }
  for (int64_t k = whole; k < n; ++k) {
    out.grad += g[k];
    out.grad_centred += static_cast<double>(g[k]) * (chosen[k] - mean);
  }
  for (int l = 0; l < kLanes; ++l) {
    out.grad += grad[l];
    out.grad_centred += centred[l];
  }
}

void input_gradient_row(const float* x, float* out, int64_t n, int64_t i, int64_t kw,
                        int64_t outputs, const float* g, const uint8_t* position, float k, float a,
                        float b) {
  int64_t done = 0;
  if (kw == 2 && cpu_has_avx2())
    done = gradient_row_kw2_avx2(x, out, i, outputs, g, position, k, a, b);
  gradient_row_portable(x, out, n, i, kw, done, outputs, g, position, k, a, b);
}

}  // namespace genre::bn_pool
