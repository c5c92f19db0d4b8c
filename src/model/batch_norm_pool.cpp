#include "model/batch_norm_pool.h"

#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <ATen/record_function.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "model/batch_norm.h"
#include "model/batch_norm_pool_kernels.h"

namespace genre {

namespace {

using bn_pool::GradientSums;
using bn_pool::Sums;

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
// and position. The window rows are summed and pooled while still in cache.
void pool_plane(const Shape& s, const float* plane, double shift, bool largest, Sums& sums,
                float* chosen_value, uint8_t* chosen_at) {
  for (int64_t ho = 0; ho < s.Ho; ++ho) {
    const float* top = plane + ho * s.kh * s.W;
    for (int64_t i = 0; i < s.kh; ++i) bn_pool::add_row_sums(top + i * s.W, s.W, shift, sums);
    bn_pool::pool_window_row(top, s.W, s.kh, s.kw, s.Wo, largest, chosen_value + ho * s.Wo,
                             chosen_at + ho * s.Wo);
  }
  for (int64_t h = s.Ho * s.kh; h < s.H; ++h)  // rows past the last window: sums only
    bn_pool::add_row_sums(plane + h * s.W, s.W, shift, sums);
}

// One plane's input gradient: a * x + b everywhere plus k * g at each window's chosen value.
void input_gradient_plane(const Shape& s, const float* x_plane, float* dx_plane, const float* g,
                          const uint8_t* chosen_at, float k, float a, float b) {
  for (int64_t ho = 0; ho < s.Ho; ++ho)
    for (int64_t i = 0; i < s.kh; ++i) {
      const int64_t row = (ho * s.kh + i) * s.W;
      bn_pool::input_gradient_row(x_plane + row, dx_plane + row, s.W, i, s.kw, s.Wo, g + ho * s.Wo,
                                  chosen_at + ho * s.Wo, k, a, b);
    }
  for (int64_t h = s.Ho * s.kh; h < s.H; ++h)  // rows past the last window
    bn_pool::input_gradient_row(x_plane + h * s.W, dx_plane + h * s.W, s.W, 0, s.kw, 0, nullptr,
                                nullptr, 0.0f, a, b);
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
    torch::Tensor position = torch::empty(out.sizes(), x.options().dtype(torch::kByte));
    torch::Tensor mean = torch::empty({s.C}, x.options()), invstd = torch::empty_like(mean);
    torch::Tensor batch_var = torch::empty({s.C}, x.options().dtype(torch::kDouble));
    const float* xp = x.data_ptr<float>();
    const float *wp = w.data_ptr<float>(), *bp = b.data_ptr<float>();
    float *op = out.data_ptr<float>(), *sp = selected.data_ptr<float>();
    uint8_t* ip = position.data_ptr<uint8_t>();
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
    ctx->save_for_backward({x, weight, mean, invstd, selected, position});
    ctx->saved_data["kh"] = kh;
    ctx->saved_data["kw"] = kw;
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &x = saved[0], weight = saved[1].contiguous();
    const torch::Tensor &mean = saved[2], &invstd = saved[3], &selected = saved[4],
                        &position = saved[5];
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
    const uint8_t* ip = position.data_ptr<uint8_t>();
    float* dxp = want_x ? grad_x.data_ptr<float>() : nullptr;
    float *gwp = grad_weight.data_ptr<float>(), *gbp = grad_bias.data_ptr<float>();
    at::parallel_for(0, s.C, 1, [&](int64_t first, int64_t last) {
      for (int64_t c = first; c < last; ++c) {
        // The output gradient is zero off the chosen values: its sums run over the pooled ones.
        GradientSums sums;
        for (int64_t n = 0; n < s.N; ++n) {
          const int64_t pooled = (n * s.C + c) * s.pooled_plane();
          bn_pool::add_gradient_sums(gp + pooled, sp + pooled, s.pooled_plane(), mp[c], sums);
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
                               static_cast<float>(a), static_cast<float>(b));
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
         kernel[0] * kernel[1] <= bn_pool::kMaxWindow;
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
