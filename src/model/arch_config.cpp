#include "model/arch_config.h"

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace genre {

ArchConfig arch_default_params() { return ArchConfig{}; }

const char* output_mode_name(OutputMode mode) {
  return mode == OutputMode::kMultiLabel ? "multi_label" : "single_label";
}

int ArchConfig::time_steps(int frames) const {
  int t = pad_time_to > 0 ? std::max(frames, pad_time_to) : frames;
  for (const auto& p : pools) t /= p.second;
  return t;
}

int ArchConfig::freq_after_pooling() const {
  int f = n_mels;
  for (const auto& p : pools) f /= p.first;
  return f;
}

int ArchConfig::layer_feature_size() const {
  int size = 0;
  if (is_transfer()) {
    for (const auto& b : backbones) size += b.layer_feature_size();
    return size;
  }
  for (int c : channels) size += c;
  return size + gru_hidden + n_classes;
}

void ArchConfig::validate() const {
  auto fail = [](const std::string& what) {
    throw Error(ErrorKind::kInvalidArgument, "", "architecture config: " + what);
  };
  // Upper bounds too: a model file's metadata sizes every tensor before its weights are read.
  if (n_classes < 1 || n_classes > 100000) fail("n_classes must be in 1..100000");
  if (n_mels < 1 || n_mels > 1024) fail("n_mels must be in 1..1024");
  if (input_frames > 1000000) fail("input_frames must be <= 1000000");
  if (pad_time_to < 0 || pad_time_to > 1000000) fail("pad_time_to must be in 0..1000000");
  if (backbones.size() > 8) fail("at most 8 backbones");
  if (final_dropout < 0 || final_dropout >= 1) fail("dropout must be in [0, 1)");
  if (input_frames < 0) fail("input_frames must be >= 0");
  if (head_hidden < 0 || head_hidden > 65536) fail("head_hidden must be in 0..65536");
  if (head_hidden > 0 && !is_transfer()) fail("head_hidden applies to transfer models only");
  if (is_transfer()) {
    for (const auto& b : backbones) {
      b.validate();
      if (b.n_mels != n_mels) fail("every backbone must take the model's n_mels");
      if (b.is_transfer()) fail("a backbone cannot itself be a transfer model");
      if (input_frames > 0 && b.time_steps(input_frames) < 1)
        fail("input_frames " + std::to_string(input_frames) + " leaves a backbone no time step");
    }
    return;
  }
  if (channels.empty() || channels.size() != pools.size() || channels.size() > 32)
    fail("channels and pools must have the same, non-zero length");
  for (int c : channels)
    if (c < 1 || c > 4096) fail("channel counts must be in 1..4096");
  for (const auto& p : pools)
    if (p.first < 1 || p.second < 1 || p.first > 4096 || p.second > 4096)
      fail("pool sizes must be in 1..4096");
  if (freq_after_pooling() != 1)
    fail("the pools must reduce the " + std::to_string(n_mels) + " mel bins to exactly 1 (got " +
         std::to_string(freq_after_pooling()) + ")");
  if (input_norm != "freq" && input_norm != "time" && input_norm != "global" &&
      input_norm != "none")
    fail("input_norm must be freq, time, global or none");
  if (activation != "elu" && activation != "relu") fail("activation must be elu or relu");
  if (input_norm == "time" && pad_time_to <= 0) fail("input_norm=time needs pad_time_to");
  if (gru_layers < 1 || gru_hidden < 1) fail("need at least one GRU layer with a positive width");
  if (gru_layers > 16 || gru_hidden > 8192) fail("GRU layers must be <= 16 and width <= 8192");
  if (gru_type != "torch" && gru_type != "keras1") fail("gru_type must be torch or keras1");
  if (conv_dropout < 0 || conv_dropout >= 1 || final_dropout < 0 || final_dropout >= 1)
    fail("dropout must be in [0, 1)");
  if (input_frames < 0) fail("input_frames must be >= 0");
  if (input_frames > 0 && time_steps(input_frames) < 1)
    fail("input_frames " + std::to_string(input_frames) + " leaves no time step after pooling");
}

void to_json(nlohmann::json& j, const ArchConfig& c) {
  nlohmann::json pools = nlohmann::json::array();
  for (const auto& p : c.pools) pools.push_back({p.first, p.second});
  j = nlohmann::json{{"n_mels", c.n_mels},
                     {"n_classes", c.n_classes},
                     {"mode", output_mode_name(c.mode)},
                     {"input_norm", c.input_norm},
                     {"pad_time_to", c.pad_time_to},
                     {"channels", c.channels},
                     {"activation", c.activation},
                     {"pools", pools},
                     {"bn_eps", c.bn_eps},
                     {"conv_dropout", c.conv_dropout},
                     {"gru_layers", c.gru_layers},
                     {"gru_hidden", c.gru_hidden},
                     {"gru_type", c.gru_type},
                     {"final_dropout", c.final_dropout},
                     {"input_frames", c.input_frames}};
  if (c.is_transfer()) j["backbones"] = c.backbones;
  if (c.head_hidden > 0) j["head_hidden"] = c.head_hidden;
}

void from_json(const nlohmann::json& j, ArchConfig& c) {
  ArchConfig d;
  c.n_mels = j.value("n_mels", d.n_mels);
  c.n_classes = j.value("n_classes", d.n_classes);
  const std::string mode = j.value("mode", std::string("single_label"));
  if (mode != "single_label" && mode != "multi_label")
    throw Error(ErrorKind::kInvalidArgument, "", "architecture config: unknown mode " + mode);
  c.mode = mode == "multi_label" ? OutputMode::kMultiLabel : OutputMode::kSingleLabel;
  c.input_norm = j.value("input_norm", d.input_norm);
  c.pad_time_to = j.value("pad_time_to", d.pad_time_to);
  c.channels = j.value("channels", d.channels);
  c.activation = j.value("activation", d.activation);
  if (j.contains("pools")) {
    c.pools.clear();
    for (const auto& p : j["pools"]) c.pools.emplace_back(p.at(0).get<int>(), p.at(1).get<int>());
  }
  c.bn_eps = j.value("bn_eps", d.bn_eps);
  c.conv_dropout = j.value("conv_dropout", d.conv_dropout);
  c.gru_layers = j.value("gru_layers", d.gru_layers);
  c.gru_hidden = j.value("gru_hidden", d.gru_hidden);
  c.gru_type = j.value("gru_type", d.gru_type);
  c.final_dropout = j.value("final_dropout", d.final_dropout);
  c.input_frames = j.value("input_frames", d.input_frames);
  c.head_hidden = j.value("head_hidden", d.head_hidden);
  c.backbones.clear();
  if (j.contains("backbones"))
    for (const auto& b : j.at("backbones")) c.backbones.push_back(b.get<ArchConfig>());
  c.validate();
}

}  // namespace genre
