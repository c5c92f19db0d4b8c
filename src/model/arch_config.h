// genre/model: the architecture of a CRNN, as a JSON-serialisable config.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <utility>
#include <vector>

namespace genre {

enum class OutputMode { kSingleLabel, kMultiLabel };  // softmax + CE | sigmoid + BCE

struct ArchConfig {
  int n_mels = 96;
  int n_classes = 10;
  OutputMode mode = OutputMode::kSingleLabel;

  // Input batch norm: "freq" (one set per mel bin, as Choi's keras models), "time" (one per
  // frame of the padded input, Choi's 2016 weights), "global" (BatchNorm2d(1): one for the whole
  // image, the sota taggers) or "none".
  std::string input_norm = "freq";
  // Zero-pad the time axis to this many frames, half before and half after (0: no padding).
  int pad_time_to = 0;

  // One conv block per entry: 3x3 conv -> batch norm -> activation -> max-pool (freq, time) ->
  // dropout. activation: "elu" (Choi et al.) or "relu" (the sota taggers).
  std::vector<int> channels = {32, 64, 64, 128, 128};
  std::string activation = "elu";
  std::vector<std::pair<int, int>> pools = {{2, 2}, {2, 2}, {2, 2}, {3, 3}, {4, 4}};
  double bn_eps = 1e-5;
  double conv_dropout = 0.1;

  // Recurrent part: GRU layers over the time steps left after pooling; the last step's state
  // feeds the classifier. "torch" uses torch::nn::GRU; "keras1" is Keras 1's GRU (hard-sigmoid
  // gates, reset gate applied before the recurrent product), needed for Choi's published weights.
  int gru_layers = 2;
  int gru_hidden = 32;
  std::string gru_type = "torch";
  double final_dropout = 0.3;

  // Frames the model sees per forward pass during training and evaluation (0 = the whole
  // excerpt). Shorter crops are averaged over the excerpt at prediction time.
  int input_frames = 0;

  // Transfer models: frozen pretrained CRNNs (usually multi-label taggers). Each one's layer
  // features (every conv block's output averaged over frequency and time, the last GRU state
  // and its own output probabilities) are concatenated, standardised with statistics stored in
  // the model and classified by one dense layer. Empty: a plain CRNN. The conv/GRU fields above
  // then do not apply; n_mels, n_classes, mode, final_dropout and input_frames do.
  std::vector<ArchConfig> backbones;
  bool is_transfer() const { return !backbones.empty(); }
  // Transfer models: width of a hidden ReLU layer between the standardised features and the
  // output layer (0: none, the dense layer alone). Dropout (final_dropout) precedes each layer.
  int head_hidden = 0;
  // Size of layer_features() of a CRNN with this config, and of a transfer model's input to its
  // dense layer (the sum over its backbones).
  int layer_feature_size() const;

  // Time steps left for the GRU from `frames` input frames (0 if the input is too short).
  int time_steps(int frames) const;
  // Mel bins left after pooling (must be 1 for a well-formed model).
  int freq_after_pooling() const;
  void validate() const;
};

// The default architecture: Choi et al. 2017's CRNN shape with five conv blocks.
ArchConfig arch_default_params();

void to_json(nlohmann::json& j, const ArchConfig& c);
void from_json(const nlohmann::json& j, ArchConfig& c);
const char* output_mode_name(OutputMode mode);

}  // namespace genre
