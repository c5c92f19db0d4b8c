#include "model/batch_norm_pool.h"

#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <ATen/record_function.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "model/batch_norm.h"

namespace genre {

namespace {

constexpr int kLanes = 8;  // two AVX2 registers of doubles per sum

struct Sums {
  double sum = 0, squares = 0;
};

// Adds sum(v - shift) and sum((v - shift)^2) over one row, in kLanes independent double lanes
// (vectorises without reassociating one sum). The shift (a value of the channel) keeps the
// variance from cancelling when the mean is large against the spread.
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

// One row of windows of one plane: for each window (kh rows of KW values starting at row `top`,
// columns [wo * KW, wo * KW + KW)), the largest value (smallest unless LARGEST) and its offset in
// the plane, the first one on ties as max_pool2d picks. One pass over the row of windows per
// window position (i, j), every store unconditional (a select, not a branch or a masked store), so
// the loop over windows vectorises for a KW known when compiling. (A NaN makes its channel's
// statistics, so every output of the channel, NaN anyway.)
template <int KW, bool LARGEST>
__attribute__((always_inline)) inline void pool_row(const float* __restrict plane, int64_t top,
                                                    int64_t width, int64_t kh, int64_t kw_runtime,
                                                    int64_t outputs, float* __restrict value,
                                                    int32_t* __restrict index) {
  const int64_t kw = KW > 0 ? KW : kw_runtime;
  const float* first = plane + top * width;
  for (int64_t wo = 0; wo < outputs; ++wo) {
    value[wo] = first[wo * kw];
    index[wo] = static_cast<int32_t>(top * width + wo * kw);
  }
  for (int64_t i = 0; i < kh; ++i) {
    const float* row = plane + (top + i) * width;
    for (int64_t j = i == 0 ? 1 : 0; j < kw; ++j) {
      const int32_t offset = static_cast<int32_t>((top + i) * width + j);
      for (int64_t wo = 0; wo < outputs; ++wo) {
        const float v = row[wo * kw + j], best = value[wo];
        const int32_t wins = -static_cast<int32_t>(LARGEST ? v > best : v < best);  // all ones
        value[wo] = LARGEST ? std::max(best, v) : std::min(best, v);
        index[wo] ^= (index[wo] ^ (offset + static_cast<int32_t>(wo * kw))) & wins;
      }
    }
  }
}

template <bool LARGEST>
__attribute__((always_inline)) inline void pool_row_any(const float* plane, int64_t top,
                                                        int64_t width, int64_t kh, int64_t kw,
                                                        int64_t outputs, float* value,
                                                        int32_t* index) {
  switch (kw) {
    case 2:
      return pool_row<2, LARGEST>(plane, top, width, kh, kw, outputs, value, index);
    case 3:
      return pool_row<3, LARGEST>(plane, top, width, kh, kw, outputs, value, index);
    case 4:
      return pool_row<4, LARGEST>(plane, top, width, kh, kw, outputs, value, index);
    default:
      return pool_row<0, LARGEST>(plane, top, width, kh, kw, outputs, value, index);
  }
}

// pool_row for the pool widths of the CRNNs (2, 3, 4) and any other, one clone per CPU level.
__attribute__((target_clones("avx2", "default"))) void pool_windows(const float* plane, int64_t top,
                                                                    int64_t width, int64_t kh,
                                                                    int64_t kw, int64_t outputs,
                                                                    bool largest, float* value,
                                                                    int32_t* index) {
  if (largest)
    pool_row_any<true>(plane, top, width, kh, kw, outputs, value, index);
  else
    pool_row_any<false>(plane, top, width, kh, kw, outputs, value, index);
}

// out[w] = a * x[w] + b + extra[w]: one row of the input gradient, the affine map of x that
// every value gets plus the pooled gradient where a value was chosen (zero elsewhere in `extra`).
__attribute__((target_clones("avx2", "default"))) void input_gradient_row(
    const float* __restrict x, const float* __restrict extra, float* __restrict out, int64_t n,
    float a, float b) {
  for (int64_t w = 0; w < n; ++w) out[w] = a * x[w] + b + extra[w];
}

struct GradientSums {
  double grad = 0, grad_centred = 0;  // sum(g), sum(g * (chosen - mean))
};

// Adds the sums of n pooled gradients g and their chosen values, in kLanes double lanes.
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

struct Shape {
  int64_t N, C, H, W, kh, kw, Ho, Wo;
  Shape(const torch::Tensor& x, int64_t kh_, int64_t kw_)
      : N(x.size(0)),
        C(x.size(1)),
        H(x.size(2)),
        W(x.size(3)),
        kh(kh_),
        kw(kw_),
        Ho(H / kh_),
        Wo(W / kw_) {}
  int64_t plane() const { return H * W; }
  int64_t pooled_plane() const { return Ho * Wo; }
  double count() const { return static_cast<double>(N * H * W); }
};

// One plane's part of the forward: adds its values to `sums` and writes each window's chosen value
// and offset. The window rows are summed and pooled while still in cache.
void pool_plane(const Shape& s, const float* plane, double shift, bool largest, Sums& sums,
                float* chosen_value, int32_t* chosen_at) {
  for (int64_t ho = 0; ho < s.Ho; ++ho) {
    for (int64_t i = 0; i < s.kh; ++i)
      add_row_sums(plane + (ho * s.kh + i) * s.W, s.W, shift, sums);
    pool_windows(plane, ho * s.kh, s.W, s.kh, s.kw, s.Wo, largest, chosen_value + ho * s.Wo,
                 chosen_at + ho * s.Wo);
  }
  for (int64_t h = s.Ho * s.kh; h < s.H; ++h)  // rows past the last window: sums only
    add_row_sums(plane + h * s.W, s.W, shift, sums);
}

// One plane's input gradient: a * x + b everywhere plus k * g at each window's chosen offset.
// `extra` (kh * W floats, zero) holds one row of windows' pooled gradient at a time.
void input_gradient_plane(const Shape& s, const float* x_plane, float* dx_plane, const float* g,
                          const int32_t* chosen_at, float k, float a, float b,
                          std::vector<float>& extra) {
  for (int64_t ho = 0; ho < s.Ho; ++ho) {
    const int64_t top = ho * s.kh * s.W;
    const float* row_g = g + ho * s.Wo;
    const int32_t* row_at = chosen_at + ho * s.Wo;
    for (int64_t wo = 0; wo < s.Wo; ++wo)  // windows do not overlap: one value each
      extra[static_cast<std::size_t>(row_at[wo] - top)] = k * row_g[wo];
    for (int64_t i = 0; i < s.kh; ++i)
      input_gradient_row(x_plane + top + i * s.W, extra.data() + i * s.W, dx_plane + top + i * s.W,
                         s.W, a, b);
    for (int64_t wo = 0; wo < s.Wo; ++wo) extra[static_cast<std::size_t>(row_at[wo] - top)] = 0.0f;
  }
  for (int64_t h = s.Ho * s.kh; h < s.H; ++h)  // rows past the last window
    input_gradient_row(x_plane + h * s.W, extra.data(), dx_plane + h * s.W, s.W, a, b);
}

struct BatchNormMaxPoolFunction : public torch::autograd::Function<BatchNormMaxPoolFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& weight, const torch::Tensor& bias,
                               torch::Tensor running_mean, torch::Tensor running_var,
                               double momentum, double eps, int64_t kh, int64_t kw) {
    RECORD_FUNCTION("genre::batch_norm_max_pool", std::vector<c10::IValue>());  // for profiles
    const Shape s(x, kh, kw);
    const torch::Tensor w = weight.contiguous(), b = bias.contiguous();
    torch::Tensor out = torch::empty({s.N, s.C, s.Ho, s.Wo}, x.options());
    torch::Tensor selected = torch::empty_like(out);  // the chosen input values
    torch::Tensor index = torch::empty(out.sizes(), x.options().dtype(torch::kInt32));
    torch::Tensor mean = torch::empty({s.C}, x.options()), invstd = torch::empty_like(mean);
    torch::Tensor batch_var = torch::empty({s.C}, x.options().dtype(torch::kDouble));
    const float* xp = x.data_ptr<float>();
    const float *wp = w.data_ptr<float>(), *bp = b.data_ptr<float>();
    float *op = out.data_ptr<float>(), *sp = selected.data_ptr<float>();
    int32_t* ip = index.data_ptr<int32_t>();
    float *mp = mean.data_ptr<float>(), *isp = invstd.data_ptr<float>();
    double* vp = batch_var.data_ptr<double>();
    // One channel per task: its sums are added in one fixed order whatever the thread count.
    at::parallel_for(0, s.C, 1, [&](int64_t first, int64_t last) {
      for (int64_t c = first; c < last; ++c) {
        const bool largest = !(wp[c] < 0);  // a negative scale turns the max into the min
        const double shift = xp[c * s.plane()];
        Sums sums;
        for (int64_t n = 0; n < s.N; ++n) {
          const int64_t pooled = (n * s.C + c) * s.pooled_plane();
          pool_plane(s, xp + (n * s.C + c) * s.plane(), shift, largest, sums, sp + pooled,
                     ip + pooled);
        }
        const double m = sums.sum / s.count();
        const double var = std::max(0.0, sums.squares / s.count() - m * m);
        vp[c] = var;
        mp[c] = static_cast<float>(m + shift);
        isp[c] = static_cast<float>(1.0 / std::sqrt(var + eps));
        // y = x * alpha + beta, as LibTorch's batch norm applies it.
        const float alpha = isp[c] * wp[c], beta = bp[c] - mp[c] * alpha;
        for (int64_t n = 0; n < s.N; ++n) {
          const int64_t pooled = (n * s.C + c) * s.pooled_plane();
          for (int64_t k = 0; k < s.pooled_plane(); ++k)
            op[pooled + k] = sp[pooled + k] * alpha + beta;
        }
      }
    });
    {
      torch::NoGradGuard no_grad;
      const double count = s.count(), unbiased = count > 1 ? count / (count - 1) : 1.0;
      running_mean.mul_(1 - momentum).add_(mean.to(running_mean.dtype()), momentum);
      running_var.mul_(1 - momentum).add_(batch_var.to(running_var.dtype()), unbiased * momentum);
    }
    ctx->save_for_backward({x, weight, mean, invstd, selected, index});
    ctx->saved_data["kh"] = kh;
    ctx->saved_data["kw"] = kw;
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &x = saved[0], weight = saved[1].contiguous();
    const torch::Tensor &mean = saved[2], &invstd = saved[3], &selected = saved[4],
                        &index = saved[5];
    const Shape s(x, ctx->saved_data["kh"].toInt(), ctx->saved_data["kw"].toInt());
    const torch::Tensor grad = grad_outputs[0].contiguous();
    const bool want_x = ctx->needs_input_grad(0);
    torch::Tensor grad_x = want_x ? torch::empty_like(x) : torch::Tensor();
    torch::Tensor grad_weight = torch::empty({s.C}, x.options()),
                  grad_bias = torch::empty({s.C}, x.options());
    const float *xp = x.data_ptr<float>(), *gp = grad.data_ptr<float>(),
                *sp = selected.data_ptr<float>();
    const float *wp = weight.data_ptr<float>(), *mp = mean.data_ptr<float>(),
                *isp = invstd.data_ptr<float>();
    const int32_t* ip = index.data_ptr<int32_t>();
    float* dxp = want_x ? grad_x.data_ptr<float>() : nullptr;
    float *gwp = grad_weight.data_ptr<float>(), *gbp = grad_bias.data_ptr<float>();
    at::parallel_for(0, s.C, 1, [&](int64_t first, int64_t last) {
      // The pooled gradient of one row of windows, spread over its kh input rows (zero elsewhere).
      std::vector<float> extra(static_cast<std::size_t>(s.kh * s.W), 0.0f);
      for (int64_t c = first; c < last; ++c) {
        // The output gradient is zero off the chosen values: its sums run over the pooled ones.
        GradientSums sums;
        for (int64_t n = 0; n < s.N; ++n) {
          const int64_t pooled = (n * s.C + c) * s.pooled_plane();
          add_gradient_sums(gp + pooled, sp + pooled, s.pooled_plane(), mp[c], sums);
        }
        const double sum_g_xhat = sums.grad_centred * isp[c];
        gwp[c] = static_cast<float>(sum_g_xhat);
        gbp[c] = static_cast<float>(sums.grad);
        if (!want_x) continue;
        // dx = k * (dy - mean(dy) - xhat * mean(dy * xhat)), k = weight * invstd: an affine map of
        // x everywhere, plus k * dy where a value was chosen.
        const double k = static_cast<double>(wp[c]) * isp[c];
        const double a = -k * isp[c] * sum_g_xhat / s.count();
        const double b = -k * sums.grad / s.count() - a * mp[c];
        for (int64_t n = 0; n < s.N; ++n)
          input_gradient_plane(s, xp + (n * s.C + c) * s.plane(), dxp + (n * s.C + c) * s.plane(),
                               gp + (n * s.C + c) * s.pooled_plane(),
                               ip + (n * s.C + c) * s.pooled_plane(), static_cast<float>(k),
                               static_cast<float>(a), static_cast<float>(b), extra);
      }
    });
    return {grad_x,
            ctx->needs_input_grad(1) ? grad_weight : torch::Tensor(),
            ctx->needs_input_grad(2) ? grad_bias : torch::Tensor(),
            torch::Tensor(),
            torch::Tensor(),
            torch::Tensor(),
            torch::Tensor(),
            torch::Tensor(),
            torch::Tensor()};
  }
};

}  // namespace

bool batch_norm_max_pool_applies(const torch::nn::BatchNorm2d& bn, const torch::nn::MaxPool2d& pool,
                                 const torch::Tensor& x) {
  const auto& b = bn->options;
  const auto& p = pool->options;
  if (!bn->is_training() || !b.affine() || !b.track_running_stats() || !b.momentum() ||
      batch_norm_sync_installed())
    return false;
  if (!x.is_cpu() || x.dim() != 4 || x.scalar_type() != torch::kFloat32 || !x.is_contiguous() ||
      at::autocast::is_cpu_enabled() || x.numel() == 0)
    return false;
  if (bn->weight.scalar_type() != torch::kFloat32 ||
      bn->running_mean.scalar_type() != torch::kFloat32)
    return false;
  const auto kernel = *p.kernel_size(), stride = *p.stride(), padding = *p.padding(),
             dilation = *p.dilation();
  for (int d = 0; d < 2; ++d)
    if (stride[d] != kernel[d] || padding[d] != 0 || dilation[d] != 1 || kernel[d] > x.size(d + 2))
      return false;
  // One value per channel is an error in training mode: left to LibTorch to report.
  return !p.ceil_mode() && x.size(0) * x.size(2) * x.size(3) > 1 &&
         x.size(2) * x.size(3) <= std::numeric_limits<int32_t>::max();
}

torch::Tensor batch_norm_max_pool(torch::nn::BatchNorm2d& bn, const torch::nn::MaxPool2d& pool,
                                  const torch::Tensor& x) {
  bn->num_batches_tracked += 1;
  const auto kernel = *pool->options.kernel_size();
  return BatchNormMaxPoolFunction::apply(x, bn->weight, bn->bias, bn->running_mean, bn->running_var,
                                         *bn->options.momentum(), bn->options.eps(), kernel[0],
                                         kernel[1]);
}

}  // namespace genre
