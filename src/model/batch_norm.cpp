#include "model/batch_norm.h"

#include <cstdint>
#include <vector>

namespace genre {

namespace {

// Per thread: a job trains on one thread, and tests run two processes' worth in two threads.
thread_local BatchNormReducer* g_reducer = nullptr;

std::vector<int64_t> reduce_dims(const torch::Tensor& x) {
  std::vector<int64_t> dims{0};
  for (int64_t d = 2; d < x.dim(); ++d) dims.push_back(d);
  return dims;
}

// Per-channel view [1, C, 1, ...] of a [C] tensor, for broadcasting against x.
torch::Tensor channel_view(const torch::Tensor& t, const torch::Tensor& x) {
  std::vector<int64_t> shape(x.dim(), 1);
  shape[1] = t.size(0);
  return t.view(shape);
}

// Batch norm over the global batch: forward and backward each sum their per-channel statistics
// over all processes with one reduction (as torch.nn.SyncBatchNorm does).
struct SyncBatchNormFunction : public torch::autograd::Function<SyncBatchNormFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, torch::Tensor x,
                               torch::Tensor weight, torch::Tensor bias, torch::Tensor running_mean,
                               torch::Tensor running_var, double momentum, double eps) {
    const auto dims = reduce_dims(x);
    const int64_t C = x.size(1);
    // Sums accumulate in double: sum of squares minus squared mean loses digits in float.
    torch::Tensor stats = torch::cat(
        {x.sum(dims, false, torch::kDouble), (x * x).sum(dims, false, torch::kDouble),
         torch::full({1}, static_cast<double>(x.numel() / C), x.options().dtype(torch::kDouble))});
    g_reducer->all_reduce_sum(stats);
    const double n = stats[2 * C].item<double>();
    const torch::Tensor mean = stats.slice(0, 0, C) / n;
    const torch::Tensor var = (stats.slice(0, C, 2 * C) / n - mean * mean).clamp_min(0);
    const torch::Tensor invstd = (var + eps).rsqrt();
    {
      torch::NoGradGuard no_grad;
      running_mean.mul_(1 - momentum).add_(mean.to(running_mean.dtype()) * momentum);
      const double unbiased = n > 1 ? n / (n - 1) : 1.0;
      running_var.mul_(1 - momentum).add_(var.to(running_var.dtype()) * (unbiased * momentum));
    }
    const torch::Tensor mean_f = mean.to(x.dtype()), invstd_f = invstd.to(x.dtype());
    ctx->save_for_backward({x, weight, mean_f, invstd_f});
    ctx->saved_data["n"] = n;
    ctx->saved_data["reducer"] = static_cast<int64_t>(reinterpret_cast<intptr_t>(g_reducer));
    return (x - channel_view(mean_f, x)) * channel_view(invstd_f * weight, x) +
           channel_view(bias, x);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &x = saved[0], &weight = saved[1], &mean = saved[2], &invstd = saved[3];
    const double n = ctx->saved_data["n"].toDouble();
    auto* reducer = reinterpret_cast<BatchNormReducer*>(
        static_cast<intptr_t>(ctx->saved_data["reducer"].toInt()));
    const torch::Tensor dy = grad_outputs[0];
    const auto dims = reduce_dims(x);
    const int64_t C = x.size(1);
    const torch::Tensor xhat = (x - channel_view(mean, x)) * channel_view(invstd, x);
    const torch::Tensor local_dy = dy.sum(dims, false, torch::kDouble);
    const torch::Tensor local_dy_xhat = (dy * xhat).sum(dims, false, torch::kDouble);
    torch::Tensor sums = torch::cat({local_dy, local_dy_xhat});
    reducer->all_reduce_sum(sums);
    const torch::Tensor mean_dy = (sums.slice(0, 0, C) / n).to(x.dtype());
    const torch::Tensor mean_dy_xhat = (sums.slice(0, C, 2 * C) / n).to(x.dtype());
    const torch::Tensor dx = channel_view(weight * invstd, x) *
                             (dy - channel_view(mean_dy, x) - xhat * channel_view(mean_dy_xhat, x));
    // The affine parameters' gradients stay local: the job sums every gradient afterwards.
    return {dx,
            local_dy_xhat.to(weight.dtype()),
            local_dy.to(weight.dtype()),
            torch::Tensor(),
            torch::Tensor(),
            torch::Tensor(),
            torch::Tensor()};
  }
};

}  // namespace

BatchNormSyncGuard::BatchNormSyncGuard(BatchNormReducer* reducer) : previous_(g_reducer) {
  g_reducer = reducer;
}

BatchNormSyncGuard::~BatchNormSyncGuard() { g_reducer = previous_; }

bool batch_norm_sync_installed() { return g_reducer != nullptr; }

torch::Tensor apply_batch_norm(torch::nn::BatchNorm2d& bn, const torch::Tensor& x) {
  if (!g_reducer || !bn->is_training() || !bn->options.affine() ||
      !bn->options.track_running_stats())
    return bn(x);
  bn->num_batches_tracked += 1;
  return SyncBatchNormFunction::apply(x, bn->weight, bn->bias, bn->running_mean, bn->running_var,
                                      bn->options.momentum().value_or(0.1), bn->options.eps());
}

}  // namespace genre
