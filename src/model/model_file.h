// genre/model: model files. One file carries the weights and everything needed to use them:
// architecture, feature config, class names, training metadata and provenance.
//
// Format: a LibTorch archive (zip) with the module's parameters and buffers under "net." and a
// JSON document under "genre_model" ({"format": "genre-model", "version": 1, ...}).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "../features/feature_config.h"
#include "arch_config.h"
#include "crnn.h"
#include "precision.h"

namespace genre {

struct ModelInfo {
  ArchConfig arch;
  FeatureConfig features;
  std::vector<std::string> classes;
  nlohmann::json training = nlohmann::json::object();    // data, split, epochs, scores, date...
  nlohmann::json provenance = nlohmann::json::object();  // origin, licence notices
};

struct Model {
  ModelInfo info;
  Crnn net{nullptr};
  Precision precision = Precision::kFp32;  // how inference runs (not stored in the file)
};

constexpr int kModelFileVersion = 1;

// Builds an untrained model (weights initialised from the current torch seed).
Model make_model(const ModelInfo& info);

// Writes atomically. Throws genre::Error(kIo) on failure.
void save_model(const std::string& path, const Model& model);

// Reads and validates a model file; the network is in eval mode on `device`.
// Throws genre::Error(kModelFile) for missing, truncated, foreign or inconsistent files.
Model load_model(const std::string& path, torch::Device device = torch::kCPU);

// Reads only the JSON metadata (fast; for `genre info`).
nlohmann::json read_model_metadata(const std::string& path);

// The metadata document as stored in a model file.
nlohmann::json model_metadata(const ModelInfo& info);

// Writes the weights as a name -> tensor dict with torch::pickle_save, which Python reads with
// torch.load(path).
void export_state_dict(const Model& model, const std::string& path);

// Copies all parameters and buffers of `from` into `to` (same architecture).
void copy_weights(Crnn& to, const Crnn& from);

}  // namespace genre

namespace genre {
// Transfer learning: copies every parameter and buffer whose name and shape match from `from`
// (the output layer of a model with other classes does not), then optionally freezes the input
// norm and conv blocks. Returns how many tensors were copied.
int transfer_weights(Model& to, const Model& from, bool freeze_conv);
}  // namespace genre
