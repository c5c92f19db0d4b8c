// genre/model: the CRNN (Choi et al. 2017) in LibTorch, one module per struct.
//
//   [B, 1, mels, T] -> (pad) -> input BN -> N x ConvBlock -> [B, T', C] -> GRU x L -> last step
//                   -> dropout -> Linear -> logits [B, classes]
//
// A transfer model (ArchConfig::backbones) holds frozen CRNNs instead of its own layers:
//   [B, 1, mels, T] -> each backbone's layer_features -> concat -> standardise -> dropout
//                   -> (Linear -> ReLU -> dropout, with head_hidden) -> Linear -> logits
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "arch_config.h"
#include "gru_inference.h"

namespace genre {

// 3x3 "same" conv -> batch norm -> ELU (or ReLU) -> max-pool -> dropout.
struct ConvBlockImpl : torch::nn::Module {
  ConvBlockImpl(int in_channels, int out_channels, std::pair<int, int> pool, double bn_eps,
                double dropout, bool relu = false);
  torch::Tensor forward(torch::Tensor x);

  // Inference form (eval mode only): the batch norm folded into the conv's weights, then
  // conv -> max-pool -> ELU. ELU (and ReLU) is increasing, so pooling first gives the same
  // maxima and the activation runs on a quarter of the values. Stale once the weights change:
  // train() drops it. channels_last: the block's input arrives NHWC (the CPU form, see
  // to_channels_last), and its convs run by Winograd's algorithm where that applies
  // (winograd_conv.h).
  void fold_batch_norm(bool channels_last);
  void train(bool on = true) override;

  torch::nn::Conv2d conv{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};
  torch::nn::MaxPool2d pool{nullptr};
  torch::nn::Dropout dropout{nullptr};
  torch::Tensor folded_weight, folded_bias;  // not parameters: never saved or trained
  // The folded weight transformed for winograd_conv3x3 (CPU, channels-last, where it applies).
  torch::Tensor winograd_weight;
  bool folded_channels_last = false;
  bool relu = false;
};
TORCH_MODULE(ConvBlock);

// Keras 1.x GRU: z = hs(x Wz + bz + h Uz), r = hs(x Wr + br + h Ur),
// hh = tanh(x Wh + bh + (r * h) Uh), h' = z * h + (1 - z) * hh, hs(a) = clamp(0.2a + 0.5, 0, 1).
// Written in LibTorch ops, so it trains like any module. Weights are stored as Keras does:
// W [in, 3H], U [H, 3H], b [3H], gate order z, r, h.
struct Keras1GruImpl : torch::nn::Module {
  Keras1GruImpl(int input_size, int hidden_size);
  // x [B, T, in] -> all hidden states [B, T, H] (h0 = 0).
  torch::Tensor forward(torch::Tensor x);

  int hidden_size;
  torch::Tensor W, U, b;
};
TORCH_MODULE(Keras1Gru);

struct CrnnImpl : torch::nn::Module {
  explicit CrnnImpl(const ArchConfig& config);

  // Log-mel [B, 1, mels, T] (or [B, mels, T]) -> logits [B, classes].
  torch::Tensor forward(torch::Tensor x);
  // What classify() reads: the last GRU state [B, gru_hidden] (the learned track embedding), or
  // for a transfer model the backbones' concatenated layer features (not yet standardised).
  torch::Tensor embed(torch::Tensor x);
  // Every conv block's output averaged over frequency and time, the last GRU state and the
  // output probabilities, concatenated: [B, config.layer_feature_size()] (Choi et al. 2017,
  // "Transfer learning for music classification and regression tasks").
  torch::Tensor layer_features(torch::Tensor x);
  // Transfer models: sets the standardisation classify() applies (mean and std per feature of
  // `features` [N, layer_feature_size()], std floored at 1e-6).
  void fit_standardization(const torch::Tensor& features);
  // Padding and input norm of a log-mel [B, 1, mels, T] (or [B, mels, T]).
  torch::Tensor normalized_input(torch::Tensor x);
  // The two halves of embed(): input norm + conv blocks -> sequence [B, T', C]; GRUs -> [B, H].
  torch::Tensor conv_sequence(torch::Tensor x);
  torch::Tensor recurrent(torch::Tensor sequence);
  // recurrent() over windows (n, t0) of `steps` steps of one sequence [N, T', C]: [W, H].
  torch::Tensor recurrent_windows(const torch::Tensor& sequence,
                                  const std::vector<std::pair<int, int>>& windows, int steps);
  // Logits from an embedding ((standardisation +) dropout + output layer).
  torch::Tensor classify(torch::Tensor embedding);
  // Probabilities: softmax (single-label) or sigmoid (multi-label) of the logits.
  torch::Tensor predict_proba(torch::Tensor x);
  torch::Tensor probabilities(torch::Tensor logits) const;
  void train(bool on = true) override;

  ArchConfig config;
  torch::nn::BatchNorm2d input_bn{nullptr};
  torch::nn::ModuleList blocks;
  torch::nn::GRU gru{nullptr};
  torch::nn::ModuleList keras_grus;
  torch::nn::Dropout final_dropout{nullptr};
  torch::nn::Linear output{nullptr};
  torch::nn::Linear hidden{nullptr};          // transfer models with head_hidden only
  torch::nn::ModuleList backbones;            // transfer models only
  torch::Tensor feature_mean, feature_scale;  // transfer models only (buffers)
  // The GRUs as plain loops (prepare_for_inference on the CPU); stale once weights change, so
  // train() drops it.
  std::shared_ptr<const GruInference> fast_gru;
};
TORCH_MODULE(Crnn);

// Whether a parameter name belongs to the classifier head: the output layer and a transfer
// model's hidden layer (what a linear probe or the head stage of transfer learning trains).
bool is_head_parameter(const std::string& name);

// Stores the 4-d conv weights channels-last (NHWC). With channels-last inputs, oneDNN's CPU
// convolutions are faster for inference (measured in bench_model); results are unchanged.
void to_channels_last(Crnn& net);

// Puts the model in eval mode in its fastest inference form on its current device: batch norms
// folded into the convs (ConvBlockImpl::fold_batch_norm) and, on the CPU, channels-last weights
// and the GRUs as plain loops (GruInference).
// Outputs match the plain eval-mode model to float rounding (~1e-5). Call again after the
// weights change; train() undoes it.
void prepare_for_inference(Crnn& net);

}  // namespace genre
