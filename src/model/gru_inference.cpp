#include "model/gru_inference.h"

#include <ATen/Parallel.h>

#include <cmath>

#include "common/error.h"

namespace genre {

namespace {

std::vector<float> to_vector(const torch::Tensor& t) {
  const torch::Tensor c = t.detach().to(torch::kCPU, torch::kFloat).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

// out = bias + x * w_t, with w_t [in][cols] row-major: the inner loop runs over contiguous
// outputs, which the compiler vectorises.
void affine(const float* __restrict x, int in, const float* __restrict w_t,
            const float* __restrict bias, int cols, float* __restrict out) {
  std::copy(bias, bias + cols, out);
  for (int k = 0; k < in; ++k) {
    const float xk = x[k];
    const float* __restrict w = w_t + static_cast<std::size_t>(k) * cols;
    for (int j = 0; j < cols; ++j) out[j] += xk * w[j];
  }
}

float sigmoid(float a) { return 1.0f / (1.0f + std::exp(-a)); }

}  // namespace

GruInference::GruInference(torch::nn::GRU& gru) {
  const auto& options = gru->options;
  if (!options.bias() || !options.batch_first() || options.bidirectional())
    throw Error(ErrorKind::kInvalidArgument, "",
                "GruInference needs a one-directional batch-first GRU with biases");
  hidden_ = static_cast<int>(options.hidden_size());
  const auto params = gru->named_parameters();
  for (int64_t l = 0; l < options.num_layers(); ++l) {
    const std::string suffix = "_l" + std::to_string(l);
    Layer layer;
    const torch::Tensor w_ih = params["weight_ih" + suffix];
    layer.input = static_cast<int>(w_ih.size(1));
    layer.w_ih_t = to_vector(w_ih.t());
    layer.w_hh_t = to_vector(params["weight_hh" + suffix].t());
    layer.b_ih = to_vector(params["bias_ih" + suffix]);
    layer.b_hh = to_vector(params["bias_hh" + suffix]);
    layers_.push_back(std::move(layer));
  }
}

// h' = (1 - z) n + z h, r = s(xr + hr), z = s(xz + hz), n = tanh(xn + r hn), with x* from
// input_gates (input projection + b_ih) and h* = W_hh h + b_hh.
void GruInference::step(const Layer& layer, const float* input_gates, float* h,
                        float* hidden_gates) const {
  const int H = hidden_;
  affine(h, H, layer.w_hh_t.data(), layer.b_hh.data(), 3 * H, hidden_gates);
  for (int j = 0; j < H; ++j) {
    const float r = sigmoid(input_gates[j] + hidden_gates[j]);
    const float z = sigmoid(input_gates[H + j] + hidden_gates[H + j]);
    const float n = std::tanh(input_gates[2 * H + j] + r * hidden_gates[2 * H + j]);
    h[j] = (1.0f - z) * n + z * h[j];
  }
}

torch::Tensor GruInference::last_states(const torch::Tensor& sequence_in,
                                        const std::vector<std::pair<int, int>>& windows,
                                        int steps) const {
  const torch::Tensor sequence = sequence_in.to(torch::kFloat).contiguous();
  TORCH_CHECK(sequence.is_cpu() && sequence.dim() == 3 && sequence.size(2) == layers_[0].input,
              "GruInference: expected a CPU sequence [N, T, ", layers_[0].input, "], got ",
              sequence.sizes());
  const int64_t N = sequence.size(0), T = sequence.size(1);
  const int H = hidden_, G = 3 * H;
  for (const auto& [n, t0] : windows)
    TORCH_CHECK(n >= 0 && n < N && t0 >= 0 && t0 + steps <= T && steps > 0,
                "GruInference: window out of range");

  // The first layer's input projection once per time step, shared by overlapping windows.
  const Layer& first = layers_[0];
  std::vector<float> projected(static_cast<std::size_t>(N * T) * G);
  const float* x = sequence.data_ptr<float>();
  at::parallel_for(0, N * T, 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      affine(x + i * first.input, first.input, first.w_ih_t.data(), first.b_ih.data(), G,
             projected.data() + i * G);
  });

  torch::Tensor out = torch::empty({static_cast<int64_t>(windows.size()), H});
  float* out_data = out.data_ptr<float>();
  at::parallel_for(0, static_cast<int64_t>(windows.size()), 1, [&](int64_t begin, int64_t end) {
    std::vector<float> states(static_cast<std::size_t>(steps) * H), gates(G), hidden_gates(G);
    std::vector<float> h(H);
    for (int64_t w = begin; w < end; ++w) {
      const auto [n, t0] = windows[w];
      std::fill(h.begin(), h.end(), 0.0f);
      for (int t = 0; t < steps; ++t) {
        step(first, projected.data() + (n * T + t0 + t) * G, h.data(), hidden_gates.data());
        std::copy(h.begin(), h.end(), states.begin() + t * H);
      }
      for (std::size_t l = 1; l < layers_.size(); ++l) {
        const Layer& layer = layers_[l];
        std::fill(h.begin(), h.end(), 0.0f);
        for (int t = 0; t < steps; ++t) {
          float* state = states.data() + t * H;  // this layer's input, then its output
          affine(state, layer.input, layer.w_ih_t.data(), layer.b_ih.data(), G, gates.data());
          step(layer, gates.data(), h.data(), hidden_gates.data());
          std::copy(h.begin(), h.end(), state);
        }
      }
      std::copy(h.begin(), h.end(), out_data + w * H);
    }
  });
  return out;
}

}  // namespace genre
