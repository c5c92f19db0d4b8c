// genre/cli: option groups shared by several commands.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "data/feature_cache.h"
#include "model/arch_config.h"
#include "model/transfer_model.h"
#include "train/trainer.h"

namespace genre::cli {

// Feature extraction workers and the on-disk feature cache.
struct DataOptions {
  int jobs = 0;
  std::string cache_dir;
  bool no_cache = false;
  FeatureCache cache() const {
    return FeatureCache(no_cache ? "" : cache_dir.empty() ? default_cache_dir() : cache_dir);
  }
};
void add_data_options(CLI::App* app, DataOptions& o);

// Architecture overrides on top of arch_default_params().
struct ArchOptions {
  std::string arch_json;  // a JSON file with an architecture config
  std::string channels, pools;
  int gru_hidden = 0, gru_layers = 0;
  int input_frames = 0;
  bool input_frames_set = false;
  double conv_dropout = -1, final_dropout = -1;
  bool no_input_norm = false;
  ArchConfig build(int n_classes, bool multi_label) const;
  // The architecture of a model initialised from `init_arch` (transfer learning): the same
  // network with a new output layer; only --input-frames may be overridden.
  ArchConfig build_from(const ArchConfig& init_arch, int n_classes, bool multi_label) const;
};
void add_arch_options(CLI::App* app, ArchOptions& o);

// Transfer models (--backbone M, repeatable): pretrained CRNNs whose layer features a dense
// layer classifies (model/transfer_model.h).
struct TransferOptions {
  std::vector<std::string> backbones;
  int head_hidden = 0;
  bool enabled() const { return !backbones.empty(); }
  // Options that need --backbone are rejected without it.
  void check() const;
  std::vector<Model> load() const;
  // --input-frames and --final-dropout of `arch` apply to the transfer model.
  TransferParams params(const ArchOptions& arch) const;
};
void add_transfer_options(CLI::App* app, TransferOptions& o);

void add_train_params(CLI::App* app, TrainParams& p);

// Data-parallel training (train/distributed.h): the job's layout comes from the environment
// (torchrun-style variables, srun, a Kubernetes indexed Job); these options tune it.
struct DistributedOptions {
  double timeout_seconds = 1800;  // rendezvous and every collective (PyTorch's default)
  std::string lr_scale = "none";  // none | linear | sqrt: the LR for the global batch
  // Joins the job, scales the LR and threads for it, and quiets every process but rank 0.
  // Returns the JSON that records the job in the model file.
  nlohmann::json start(TrainParams& p) const;
};
void add_distributed_options(CLI::App* app, DistributedOptions& o);

// Devices: auto | cpu | cuda.
void add_device_option(CLI::App* app, std::string& device);
// Inference arithmetic: fp32 | bf16 | fp16 (model/precision.h).
void add_precision_option(CLI::App* app, std::string& precision);

}  // namespace genre::cli
