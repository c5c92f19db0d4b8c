// genre/model: the eval-mode GRU stack of a CRNN as plain float loops, for CPU inference.
//
// Debian's LibTorch multiplies through the reference BLAS, which is slow on the GRU's tiny
// matrices (32-wide states). These loops, which also compute the first layer's input projection
// once per time step of the shared conv sequence instead of once per overlapping crop, cut the
// model stage's CPU time by 16% (docs/benchmarks.md). Same equations as torch::nn::GRU (gates
// r, z, n); outputs agree to float rounding (tests/model/test_gru_inference.cpp checks 1e-5).
#pragma once

#include <torch/torch.h>

#include <utility>
#include <vector>

namespace genre {

class GruInference {
 public:
  // Copies the weights of a CPU torch::nn::GRU (batch_first, with biases).
  explicit GruInference(torch::nn::GRU& gru);

  // The top layer's last hidden state for each window [W, hidden]. sequence: [N, T, input] float
  // on the CPU; window (n, t0) runs the stack from h = 0 over sequence[n, t0 : t0 + steps].
  torch::Tensor last_states(const torch::Tensor& sequence,
                            const std::vector<std::pair<int, int>>& windows, int steps) const;

 private:
  struct Layer {
    int input = 0;
    std::vector<float> w_ih_t, w_hh_t;  // transposed: [input][3H], [H][3H]
    std::vector<float> b_ih, b_hh;      // [3H]
  };
  void step(const Layer& layer, const float* input_gates, float* h, float* hidden_gates) const;

  int hidden_ = 0;
  std::vector<Layer> layers_;
};

}  // namespace genre
