#include "model/transfer_model.h"

#include "common/error.h"

namespace genre {

TransferParams transfer_default_params() { return TransferParams{}; }

Model make_transfer_model(const std::vector<Model>& backbones,
                          const std::vector<std::string>& classes, const TransferParams& params) {
  if (backbones.empty())
    throw Error(ErrorKind::kInvalidArgument, "", "a transfer model needs at least one backbone");
  ModelInfo info;
  info.features = backbones.front().info.features;
  info.classes = classes;
  info.arch = arch_default_params();
  info.arch.n_mels = info.features.n_mels;
  info.arch.n_classes = static_cast<int>(classes.size());
  info.arch.mode = OutputMode::kSingleLabel;
  info.arch.input_frames = params.input_frames;
  info.arch.final_dropout = params.final_dropout;
  info.arch.head_hidden = params.head_hidden;
  nlohmann::json sources = nlohmann::json::array();
  for (const Model& b : backbones) {
    if (b.info.arch.is_transfer())
      throw Error(ErrorKind::kInvalidArgument, "", "a backbone cannot itself be a transfer model");
    if (b.info.features != info.features)
      throw Error(ErrorKind::kInvalidArgument, "",
                  "backbones with different front ends (feature configs) cannot share a model");
    info.arch.backbones.push_back(b.info.arch);
    sources.push_back({{"classes", b.info.classes}, {"provenance", b.info.provenance}});
  }
  info.arch.validate();
  info.provenance = {{"origin",
                      "genre transfer model: a dense layer on the layer features of "
                      "frozen pretrained CRNNs (Choi et al., ISMIR 2017)"},
                     {"backbones", sources}};
  Model model = make_model(info);
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < backbones.size(); ++i) {
    Crnn target = std::dynamic_pointer_cast<CrnnImpl>(model.net->backbones[i]);
    copy_weights(target, backbones[i].net);
  }
  for (auto& p : model.net->named_parameters())
    if (p.key().rfind("backbones.", 0) == 0) p.value().set_requires_grad(false);
  model.net->eval();
  return model;
}

}  // namespace genre
