#include "model/conv3x3.h"

#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <immintrin.h>

#include <algorithm>
#include <vector>

#include "model/layout_copy.h"
#include "model/winograd_conv.h"

namespace genre {

namespace {

// Output channels per register block: 4 channels x 3 column shifts = 12 accumulators, 4
// gradient vectors and one input vector: one more than the 16 AVX2 registers, so one gradient is
// read by its multiply-adds from L1; 7 loads per 12 fused multiply-adds. (3 channels, 13
// registers, measured 3-8% slower.)
constexpr int kBlock = 4;

// Rows shorter than this keep oneDNN's weight gradient: each row's sums end in 12 horizontal
// additions, which short rows do not amortise (2-core AVX2 EPYC, batch 32: rows of 683 and 341
// columns 20% and 9% faster than oneDNN, 170 columns 10% slower, 56 columns 2x slower).
constexpr int64_t kMinWidth = 256;

// Eight columns: acc[c][j] += g[c][w, w + 8) * x[w + j, w + j + 8), x's index 0 being the
// column before the first.
template <int NCO>
__attribute__((target("avx2,fma"), always_inline)) inline void accumulate8(
    __m256 (&acc)[NCO][3], const float* const (&g)[NCO], int64_t w, const float* x) {
  __m256 gv[NCO];
  for (int c = 0; c < NCO; ++c) gv[c] = _mm256_loadu_ps(g[c] + w);
  for (int j = 0; j < 3; ++j) {
    const __m256 xv = _mm256_loadu_ps(x + w + j);
    for (int c = 0; c < NCO; ++c) acc[c][j] = _mm256_fmadd_ps(gv[c], xv, acc[c][j]);
  }
}

// For NCO output channels' gradient rows g[c] (`padded` values, zero past the row) and one padded
// input row x (the row above, at or below theirs: a zero, the row, zeros), adds
// sum_w g[c][w] * x[w + j] to out[c * stride + j].
template <int NCO>
__attribute__((target("avx2,fma"))) void add_row_products(const float* const (&g)[NCO],
                                                          const float* x, int64_t padded,
                                                          double* out, int64_t stride) {
  __m256 acc[NCO][3];
  for (auto& per_channel : acc)
    for (auto& a : per_channel) a = _mm256_setzero_ps();
  for (int64_t w = 0; w < padded; w += 8) accumulate8<NCO>(acc, g, w, x);
  alignas(32) float lane[8];
  for (int c = 0; c < NCO; ++c)
    for (int j = 0; j < 3; ++j) {
      _mm256_store_ps(lane, acc[c][j]);
      float sum = 0;
      for (float v : lane) sum += v;
      out[c * stride + j] += sum;
    }
}

__attribute__((target_clones("avx2", "default"))) double row_sum(const float* g, int64_t n) {
  float lane[8] = {};
  const int64_t whole = n / 8 * 8;
  for (int64_t w = 0; w < whole; w += 8)
    for (int l = 0; l < 8; ++l) lane[l] += g[w + l];
  float sum = 0;
  for (int64_t w = whole; w < n; ++w) sum += g[w];
  for (float v : lane) sum += v;
  return sum;
}

struct Dims {
  int64_t B, Cin, Cout, H, W;
  int64_t padded() const { return (W + 7) / 8 * 8; }  // whole blocks of eight columns
};

// The rows of one sample that an output row reads, for every input channel, with the conv's
// zero padding written out (a zero column before, zeros after): three slots per channel, input
// row `source` in slot source % 3, so moving down one output row copies one new row.
class PaddedRows {
 public:
  PaddedRows(const Dims& d, const float* x)
      : d_(d), x_(x), stride_(d.padded() + 8), data_(d.Cin * 3 * stride_, 0.0f) {}

  // Makes rows h - 1, h, h + 1 of sample b (those inside the plane) available.
  void prepare(int64_t b, int64_t h) {
    for (int64_t source = std::max<int64_t>(h - 1, 0); source <= std::min(h + 1, d_.H - 1);
         ++source) {
      int64_t& held = held_[source % 3];
      if (held == b * d_.H + source) continue;
      held = b * d_.H + source;
      for (int64_t ci = 0; ci < d_.Cin; ++ci)
        std::copy_n(x_ + ((b * d_.Cin + ci) * d_.H + source) * d_.W, d_.W,
                    slot(ci, source) + 1);  // columns past W stay zero
    }
  }
  const float* row(int64_t ci, int64_t source) const {
    return data_.data() + (ci * 3 + source % 3) * stride_;
  }

 private:
  float* slot(int64_t ci, int64_t source) { return data_.data() + (ci * 3 + source % 3) * stride_; }
  const Dims& d_;
  const float* x_;
  int64_t stride_;
  std::vector<float> data_;
  int64_t held_[3] = {-1, -1, -1};
};

// One output row (sample b, row h) for output channels [co, co + NCO): their bias sums and
// their products with the three input rows that fed them, for every input channel. `g_row`
// holds the row's gradient for every output channel, padded.
template <int NCO>
void add_output_row(const Dims& d, const PaddedRows& x, const float* g_row, int64_t h, int64_t co,
                    double* weight_sums, double* bias_sums) {
  const float* rows[NCO];
  for (int c = 0; c < NCO; ++c) {
    rows[c] = g_row + (co + c) * d.padded();
    bias_sums[co + c] += row_sum(rows[c], d.padded());
  }
  for (int64_t ci = 0; ci < d.Cin; ++ci)
    for (int i = 0; i < 3; ++i) {
      const int64_t source = h + i - 1;
      if (source < 0 || source >= d.H) continue;  // padding: adds nothing
      add_row_products<NCO>(rows, x.row(ci, source), d.padded(),
                            weight_sums + (co * d.Cin + ci) * 9 + i * 3, d.Cin * 9);
    }
}

bool cpu_suits() {
  static const bool suits = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                            !__builtin_cpu_supports("avx512f");
  return suits;
}

// A stride-1, padding-1 3x3 conv of an NCHW x by Winograd's algorithm (winograd_conv.h), through
// channels-last copies, when the shapes suit it: 2.0-2.4x oneDNN's direct conv for the default
// CRNN's blocks 2-4 in a training batch, copies included. Undefined otherwise.
torch::Tensor winograd_nchw(const torch::Tensor& x, const torch::Tensor& weight,
                            const torch::Tensor& bias) {
  if (!winograd_weight_applies(weight) || weight.size(1) != x.size(1) || !layout_copy_applies(x))
    return torch::Tensor();
  const torch::Tensor nhwc = channels_last_copy(x);
  if (!winograd_conv3x3_applies(nhwc, weight)) return torch::Tensor();
  return channels_first_copy(winograd_conv3x3(nhwc, winograd_weights(weight), bias));
}

struct Conv3x3Function : public torch::autograd::Function<Conv3x3Function> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& weight, const torch::Tensor& bias) {
    ctx->save_for_backward({x, weight});
    const torch::Tensor y = winograd_nchw(x, weight, bias);
    return y.defined() ? y : torch::conv2d(x, weight, bias, 1, 1);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &x = saved[0], &weight = saved[1];
    const torch::Tensor grad = grad_outputs[0].contiguous();
    torch::Tensor grad_x, grad_weight, grad_bias;
    if (ctx->needs_input_grad(0)) {
      // The input gradient is the same conv of the output gradient with the weight's channels
      // swapped and its taps turned by 180 degrees.
      grad_x = winograd_nchw(grad, weight.transpose(0, 1).flip({2, 3}), torch::Tensor());
      if (!grad_x.defined())
        grad_x =
            std::get<0>(at::convolution_backward(grad, x, weight, c10::nullopt, {1, 1}, {1, 1},
                                                 {1, 1}, false, {0, 0}, 1, {true, false, false}));
    }
    if (ctx->needs_input_grad(1) || ctx->needs_input_grad(2)) {
      if (x.size(3) >= kMinWidth) {
        std::tie(grad_weight, grad_bias) = conv3x3_weight_gradient(x, grad);
      } else {  // rows shorter than the weight-gradient kernel's: oneDNN's measured faster
        auto grads = at::convolution_backward(grad, x, weight, c10::IntArrayRef{weight.size(0)},
                                              {1, 1}, {1, 1}, {1, 1}, false, {0, 0}, 1,
                                              {false, true, true});
        grad_weight = std::get<1>(grads);
        grad_bias = std::get<2>(grads);
      }
      if (!ctx->needs_input_grad(1)) grad_weight = torch::Tensor();
      if (!ctx->needs_input_grad(2)) grad_bias = torch::Tensor();
    }
    return {grad_x, grad_weight, grad_bias};
  }
};

}  // namespace

std::pair<torch::Tensor, torch::Tensor> conv3x3_weight_gradient(const torch::Tensor& x,
                                                                const torch::Tensor& grad) {
  TORCH_CHECK(cpu_suits(), "conv3x3_weight_gradient needs AVX2 and FMA");
  const Dims d{x.size(0), x.size(1), grad.size(1), x.size(2), x.size(3)};
  const torch::Tensor xc = x.contiguous(), gc = grad.contiguous();
  const float* xp = xc.data_ptr<float>();
  const float* gp = gc.data_ptr<float>();
  const int64_t rows = d.B * d.H, blocks = std::min<int64_t>(rows, 16);
  const int64_t weights = d.Cout * d.Cin * 9, per_block = weights + d.Cout;
  std::vector<double> partial(static_cast<std::size_t>(blocks * per_block), 0.0);
  at::parallel_for(0, blocks, 1, [&](int64_t first, int64_t last) {
    PaddedRows x_rows(d, xp);
    std::vector<float> g_row(static_cast<std::size_t>(d.Cout * d.padded()), 0.0f);
    for (int64_t block = first; block < last; ++block) {
      double* sums = partial.data() + block * per_block;
      for (int64_t r = rows * block / blocks; r < rows * (block + 1) / blocks; ++r) {
        const int64_t b = r / d.H, h = r % d.H;
        x_rows.prepare(b, h);
        for (int64_t co = 0; co < d.Cout; ++co)  // columns past W stay zero
          std::copy_n(gp + ((b * d.Cout + co) * d.H + h) * d.W, d.W,
                      g_row.data() + co * d.padded());
        int64_t co = 0;
        for (; co + kBlock <= d.Cout; co += kBlock)
          add_output_row<kBlock>(d, x_rows, g_row.data(), h, co, sums, sums + weights);
        for (; co < d.Cout; ++co)
          add_output_row<1>(d, x_rows, g_row.data(), h, co, sums, sums + weights);
      }
    }
  });
  torch::Tensor total = torch::zeros({per_block}, torch::kDouble);
  double* tp = total.data_ptr<double>();
  for (int64_t block = 0; block < blocks; ++block)
    for (int64_t k = 0; k < per_block; ++k) tp[k] += partial[block * per_block + k];
  return {total.slice(0, 0, weights).view({d.Cout, d.Cin, 3, 3}).to(torch::kFloat32),
          total.slice(0, weights).to(torch::kFloat32)};
}

bool conv3x3_training_applies(const torch::Tensor& x, const torch::Tensor& weight) {
  const bool suits = cpu_suits() && x.is_cpu() && x.dim() == 4 && x.size(1) > 1 &&
                     x.scalar_type() == torch::kFloat32 && x.is_contiguous() && weight.dim() == 4 &&
                     weight.size(1) == x.size(1) && weight.size(2) == 3 && weight.size(3) == 3 &&
                     weight.scalar_type() == torch::kFloat32 && !at::autocast::is_cpu_enabled();
  // Shorter rows only for the Winograd forward; their weight gradient stays oneDNN's.
  return suits && (x.size(3) >= kMinWidth ||
                   (winograd_weight_applies(weight) && layout_copy_applies(x)));
}

torch::Tensor conv3x3_training(const torch::Tensor& x, const torch::Tensor& weight,
                               const torch::Tensor& bias) {
  // autograd::Function takes no undefined inputs: a conv without bias gets zeros, which need no
  // gradient.
  return Conv3x3Function::apply(
      x, weight, bias.defined() ? bias : torch::zeros({weight.size(0)}, x.options()));
}

}  // namespace genre
