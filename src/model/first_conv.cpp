#include "model/first_conv.h"

#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <ATen/record_function.h>
#include <immintrin.h>

#include <algorithm>
#include <tuple>
#include <vector>

namespace genre {

namespace {

constexpr int kLanes = 16;  // two AVX2 registers of floats per dot product

// sum over w in [0, n) of a[w] * b[w], in kLanes independent lanes (vectorises without
// reassociating a single sum) added up at the end.
__attribute__((target_clones("avx2", "default"))) float dot(const float* a, const float* b,
                                                            int64_t n) {
  float lane[kLanes] = {};
  const int64_t whole = n / kLanes * kLanes;
  for (int64_t w = 0; w < whole; w += kLanes)
    for (int l = 0; l < kLanes; ++l) lane[l] += a[w + l] * b[w + l];
  float sum = 0;
  for (int64_t w = whole; w < n; ++w) sum += a[w] * b[w];
  for (int l = 0; l < kLanes; ++l) sum += lane[l];
  return sum;
}

// out[w] += k[0] * g[w + 1] + k[1] * g[w] + k[2] * g[w - 1], g being zero outside [0, n): one
// row of the input gradient from one row of one channel's output gradient.
__attribute__((target_clones("avx2", "default"))) void add_taps(float* out, const float* g,
                                                                const float* k, int64_t n) {
  if (n == 1) {
    out[0] += k[1] * g[0];
    return;
  }
  out[0] += k[0] * g[1] + k[1] * g[0];
  for (int64_t w = 1; w < n - 1; ++w) out[w] += k[0] * g[w + 1] + k[1] * g[w] + k[2] * g[w - 1];
  out[n - 1] += k[1] * g[n - 1] + k[2] * g[n - 2];
}

bool cpu_has_fma() {
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
}

// One output row (sample b, row h) of every channel: out[c][w] = bias[c] + sum over (i, j) of
// k[c][i][j] * x[h + i - 1][w + j - 1], zero outside. Eight columns at a time, the nine input
// vectors they need held in registers across the channels: 9 weight broadcasts and 9 fused
// multiply-adds per 8 outputs. (oneDNN's forward for one input channel ran at a quarter of the
// machine's peak.)
__attribute__((target("avx2,fma"))) void forward_row(const float* x, int64_t H, int64_t W,
                                                     int64_t h, const float* k, const float* bias,
                                                     int64_t C, float* out, int64_t plane,
                                                     std::vector<float>& padded) {
  const int64_t width = (W + 7) / 8 * 8 + 8;  // column -1 at 0, then W columns, then zeros
  for (int i = 0; i < 3; ++i) {
    float* row = padded.data() + i * width;
    const int64_t source = h + i - 1;
    if (source < 0 || source >= H)
      std::fill(row, row + width, 0.0f);
    else
      std::copy_n(x + source * W, W, row + 1);  // the padding columns stay zero
  }
  alignas(32) float tail[8];
  for (int64_t w = 0; w < W; w += 8) {
    __m256 in[9];
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j)
        in[i * 3 + j] = _mm256_loadu_ps(padded.data() + i * width + w + j);
    for (int64_t c = 0; c < C; ++c) {
      __m256 acc = _mm256_broadcast_ss(bias + c);
      for (int t = 0; t < 9; ++t)
        acc = _mm256_fmadd_ps(_mm256_broadcast_ss(k + c * 9 + t), in[t], acc);
      float* dst = out + c * plane + w;
      if (w + 8 <= W) {
        _mm256_storeu_ps(dst, acc);
      } else {
        _mm256_store_ps(tail, acc);
        std::copy_n(tail, W - w, dst);
      }
    }
  }
}

// conv2d(x, weight, bias, stride 1, padding 1) for x [B, 1, H, W], one task per output row.
torch::Tensor forward_avx2(const torch::Tensor& x, const torch::Tensor& weight,
                           const torch::Tensor& bias) {
  RECORD_FUNCTION("genre::first_conv3x3", std::vector<c10::IValue>());  // for profiles
  const int64_t B = x.size(0), H = x.size(2), W = x.size(3), C = weight.size(0);
  const torch::Tensor xc = x.contiguous(), k = weight.contiguous(), b = bias.contiguous();
  torch::Tensor out = torch::empty({B, C, H, W}, x.options());
  const float *xp = xc.data_ptr<float>(), *kp = k.data_ptr<float>(), *bp = b.data_ptr<float>();
  float* op = out.data_ptr<float>();
  at::parallel_for(0, B * H, 4, [&](int64_t first, int64_t last) {
    std::vector<float> padded(static_cast<std::size_t>(3 * ((W + 7) / 8 * 8 + 8)), 0.0f);
    for (int64_t r = first; r < last; ++r) {
      const int64_t sample = r / H, h = r % H;
      forward_row(xp + sample * H * W, H, W, h, kp, bp, C, op + (sample * C * H + h) * W, H * W,
                  padded);
    }
  });
  return out;
}

// Both kernels below add, for one output row g of one channel (W values) and the three input rows
// it was computed from (zero-padded: rows[i][0] is column -1), the nine sums
// out[i * 3 + j] += sum_w g[w] * rows[i][w + j] and the bias sum out[9] += sum_w g[w].
constexpr int kSums = 10;

__attribute__((target_clones("avx2", "default"))) float row_sum(const float* g, int64_t n) {
  float lane[kLanes] = {};
  const int64_t whole = n / kLanes * kLanes;
  for (int64_t w = 0; w < whole; w += kLanes)
    for (int l = 0; l < kLanes; ++l) lane[l] += g[w + l];
  float sum = 0;
  for (int64_t w = whole; w < n; ++w) sum += g[w];
  for (int l = 0; l < kLanes; ++l) sum += lane[l];
  return sum;
}

void add_row_sums_portable(const float* g, const float* const rows[3], int64_t n, double* out) {
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) out[i * 3 + j] += dot(g, rows[i] + j, n);
  out[9] += row_sum(g, n);
}

// One load of g per eight columns for all ten sums (the portable path reloads it nine times): 10
// loads for 9 fused multiply-adds, close to the FMA units' rate where the dot products are
// bound by loads.
__attribute__((target("avx2,fma"))) void add_row_sums_avx2(const float* g,
                                                           const float* const rows[3], int64_t n,
                                                           double* out) {
  __m256 acc[kSums];
  for (auto& a : acc) a = _mm256_setzero_ps();
  const int64_t whole = n / 8 * 8;
  for (int64_t w = 0; w < whole; w += 8) {
    const __m256 gv = _mm256_loadu_ps(g + w);
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j)
        acc[i * 3 + j] = _mm256_fmadd_ps(gv, _mm256_loadu_ps(rows[i] + w + j), acc[i * 3 + j]);
    acc[9] = _mm256_add_ps(acc[9], gv);
  }
  alignas(32) float lane[8];
  for (int k = 0; k < kSums; ++k) {
    _mm256_store_ps(lane, acc[k]);
    float sum = 0;
    for (float v : lane) sum += v;
    out[k] += sum;
  }
  for (int64_t w = whole; w < n; ++w) {
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) out[i * 3 + j] += g[w] * rows[i][w + j];
    out[9] += g[w];
  }
}

// d loss / d weight [C, 1, 3, 3] and d loss / d bias [C] from the input [B, 1, H, W] and
// d loss / d output [B, C, H, W] (both contiguous), in one pass over the output gradient. Rows go
// to a fixed number of blocks, each summed on its own and the blocks added in order, so the
// result does not depend on the thread count.
std::pair<torch::Tensor, torch::Tensor> weight_and_bias_gradient(const torch::Tensor& x,
                                                                 const torch::Tensor& grad) {
  const int64_t B = x.size(0), H = x.size(2), W = x.size(3), C = grad.size(1);
  const int64_t rows = B * H;
  const int64_t blocks = std::min<int64_t>(rows, 64);
  const auto add_row_sums = cpu_has_fma() ? add_row_sums_avx2 : add_row_sums_portable;
  std::vector<double> partial(static_cast<std::size_t>(blocks * C * kSums), 0.0);
  const float* xp = x.data_ptr<float>();
  const float* gp = grad.data_ptr<float>();
  at::parallel_for(0, blocks, 1, [&](int64_t first, int64_t last) {
    std::vector<float> padded(static_cast<std::size_t>(3 * (W + 2)), 0.0f);
    for (int64_t block = first; block < last; ++block) {
      double* out = partial.data() + block * C * kSums;
      for (int64_t r = rows * block / blocks; r < rows * (block + 1) / blocks; ++r) {
        const int64_t b = r / H, h = r % H;
        const float* rowp[3];
        for (int i = 0; i < 3; ++i) {
          float* dst = padded.data() + i * (W + 2);
          const int64_t src = h + i - 1;
          if (src < 0 || src >= H)
            std::fill(dst + 1, dst + 1 + W, 0.0f);
          else
            std::copy(xp + (b * H + src) * W, xp + (b * H + src + 1) * W, dst + 1);
          rowp[i] = dst;
        }
        for (int64_t c = 0; c < C; ++c)
          add_row_sums(gp + ((b * C + c) * H + h) * W, rowp, W, out + c * kSums);
      }
    }
  });
  torch::Tensor weight = torch::zeros({C, 1, 3, 3}, torch::kDouble),
                bias = torch::zeros({C}, torch::kDouble);
  double *wp = weight.data_ptr<double>(), *bp = bias.data_ptr<double>();
  for (int64_t block = 0; block < blocks; ++block)
    for (int64_t c = 0; c < C; ++c) {
      const double* sums = partial.data() + (block * C + c) * kSums;
      for (int k = 0; k < 9; ++k) wp[c * 9 + k] += sums[k];
      bp[c] += sums[9];
    }
  return {weight.to(torch::kFloat32), bias.to(torch::kFloat32)};
}

// d loss / d input [B, 1, H, W] from the weight [C, 1, 3, 3] and d loss / d output [B, C, H, W]
// (contiguous): each input row gathers the three output rows it fed, for every channel.
torch::Tensor input_gradient(const torch::Tensor& weight, const torch::Tensor& grad) {
  const int64_t B = grad.size(0), C = grad.size(1), H = grad.size(2), W = grad.size(3);
  const torch::Tensor k = weight.contiguous();
  torch::Tensor result = torch::zeros({B, 1, H, W}, grad.options());
  const float* kp = k.data_ptr<float>();
  const float* gp = grad.data_ptr<float>();
  float* rp = result.data_ptr<float>();
  at::parallel_for(0, B * H, 16, [&](int64_t first, int64_t last) {
    for (int64_t r = first; r < last; ++r) {
      const int64_t b = r / H, h = r % H;
      for (int64_t c = 0; c < C; ++c)
        for (int i = 0; i < 3; ++i) {
          const int64_t source = h + 1 - i;  // output row h' fed input row h' + i - 1
          if (source < 0 || source >= H) continue;
          add_taps(rp + r * W, gp + ((b * C + c) * H + source) * W, kp + c * 9 + i * 3, W);
        }
    }
  });
  return result;
}

struct FirstConvFunction : public torch::autograd::Function<FirstConvFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& weight, const torch::Tensor& bias) {
    ctx->save_for_backward({x, weight});
    return cpu_has_fma() && bias.defined() ? forward_avx2(x, weight, bias)
                                           : torch::conv2d(x, weight, bias, 1, 1);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor x = saved[0].contiguous(), &weight = saved[1];
    const torch::Tensor grad = grad_outputs[0].contiguous();
    torch::Tensor grad_x, grad_weight, grad_bias;
    if (ctx->needs_input_grad(0)) grad_x = input_gradient(weight, grad);
    if (ctx->needs_input_grad(1) || ctx->needs_input_grad(2)) {
      std::tie(grad_weight, grad_bias) = weight_and_bias_gradient(x, grad);
      if (!ctx->needs_input_grad(1)) grad_weight = torch::Tensor();
      if (!ctx->needs_input_grad(2)) grad_bias = torch::Tensor();
    }
    return {grad_x, grad_weight, grad_bias};
  }
};

}  // namespace

bool first_conv3x3_applies(const torch::Tensor& x, const torch::Tensor& weight) {
  return x.is_cpu() && x.dim() == 4 && x.size(1) == 1 && x.scalar_type() == torch::kFloat32 &&
         weight.dim() == 4 && weight.size(1) == 1 && weight.size(2) == 3 && weight.size(3) == 3 &&
         weight.scalar_type() == torch::kFloat32 && !at::autocast::is_cpu_enabled();
}

torch::Tensor first_conv3x3(const torch::Tensor& x, const torch::Tensor& weight,
                            const torch::Tensor& bias) {
  return FirstConvFunction::apply(x, weight, bias);
}

}  // namespace genre
