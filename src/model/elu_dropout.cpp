#include "model/elu_dropout.h"

#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>

#include <cstring>

#include "model/dropout.h"

namespace genre {

namespace {

constexpr int64_t kGrain = 1 << 16;

// y[i] *= scale, or 0 where element i is dropped.
__attribute__((target_clones("avx2", "default"))) void apply_mask(float* y, int64_t begin,
                                                                  int64_t end, uint64_t seed,
                                                                  uint32_t threshold, float scale) {
  for (int64_t i = begin; i < end; ++i)  // y * mask, as hashed_dropout multiplies
    y[i] *= dropout_hash(seed, i) >= threshold ? scale : 0.0f;
}

// dx = g * d y / d x from the output y = elu(x) * scale of a kept element: g * scale where
// y > 0, else g * scale * (elu(x) + 1) = g * (y + scale); 0 where dropped (y = 0, mask 0).
__attribute__((target_clones("avx2", "default"))) void gradient(const float* __restrict g,
                                                                const float* __restrict y,
                                                                float* __restrict dx, int64_t begin,
                                                                int64_t end, uint64_t seed,
                                                                uint32_t threshold, float scale) {
  for (int64_t i = begin; i < end; ++i) {
    const float mask = dropout_hash(seed, i) >= threshold ? scale : 0.0f;
    const float yi = y[i], below = yi + mask;  // y is 0 where dropped: below is 0 there too
    // mask where y > 0, else below, in integer operations on the bits: GCC does not vectorise
    // the float comparison (it may raise an FP exception) or a select of computed floats.
    uint32_t y_bits, mask_bits, below_bits;
    std::memcpy(&y_bits, &yi, 4);
    std::memcpy(&mask_bits, &mask, 4);
    std::memcpy(&below_bits, &below, 4);
    const uint32_t positive = 0u - static_cast<uint32_t>(static_cast<int32_t>(y_bits) > 0);
    const uint32_t slope_bits = (mask_bits & positive) | (below_bits & ~positive);
    float slope;
    std::memcpy(&slope, &slope_bits, 4);
    dx[i] = g[i] * slope;
  }
}

struct EluDropoutFunction : public torch::autograd::Function<EluDropoutFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               double p) {
    const uint64_t seed = draw_dropout_seed();
    const uint32_t threshold = dropout_threshold(p);
    const float scale = static_cast<float>(1.0 / (1.0 - p));
    torch::Tensor y = torch::elu(x);
    float* yp = y.data_ptr<float>();
    at::parallel_for(0, y.numel(), kGrain, [&](int64_t begin, int64_t end) {
      apply_mask(yp, begin, end, seed, threshold, scale);
    });
    ctx->save_for_backward({y});
    ctx->saved_data["seed"] = static_cast<int64_t>(seed);
    ctx->saved_data["p"] = p;
    return y;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const torch::Tensor y = ctx->get_saved_variables()[0];
    const torch::Tensor g = grad_outputs[0].contiguous();
    const auto seed = static_cast<uint64_t>(ctx->saved_data["seed"].toInt());
    const double p = ctx->saved_data["p"].toDouble();
    const uint32_t threshold = dropout_threshold(p);
    const float scale = static_cast<float>(1.0 / (1.0 - p));
    torch::Tensor dx = torch::empty_like(y);
    const float *gp = g.data_ptr<float>(), *yp = y.data_ptr<float>();
    float* dxp = dx.data_ptr<float>();
    at::parallel_for(0, y.numel(), kGrain, [&](int64_t begin, int64_t end) {
      gradient(gp, yp, dxp, begin, end, seed, threshold, scale);
    });
    return {dx, torch::Tensor()};
  }
};

}  // namespace

bool elu_dropout_applies(const torch::Tensor& x) {
  return x.is_cpu() && x.scalar_type() == torch::kFloat32 && x.is_contiguous() &&
         !at::autocast::is_cpu_enabled();
}

torch::Tensor elu_dropout(const torch::Tensor& x, double p) {
  TORCH_CHECK(p > 0 && p < 1, "elu_dropout: the dropout probability must be in (0, 1)");
  return EluDropoutFunction::apply(x, p);
}

}  // namespace genre
