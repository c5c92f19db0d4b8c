// genre/serve: what the service does with an upload, through the library only: classify it with
// the Predictor (any model kind the library loads), or compute its log-mel as .npy bytes. The
// upload is read from memory (MemoryFile); nothing reaches the disk but the .npy's private
// temporary file, removed before features() returns.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "predict/predictor.h"

namespace genre::serve {

struct ClassifyOptions {
  bool segments = false;   // genre over time (the whole track)
  double hop_seconds = 0;  // with segments: between windows (0: half a window)
};

struct Classification {
  Prediction prediction;        // input = the upload's name; error messages name it too
  double duration_seconds = 0;  // of the whole upload, as its container reports it
  double run_seconds = 0;       // decoding + model
};

class Classifier {
 public:
  // Loads the model file; `device` is auto, cpu or cuda.
  Classifier(const std::string& model_path, const std::string& device);

  // Runs on the calling thread (a worker): each call one decoder and one model thread.
  Classification classify(const std::string& bytes, const std::string& name,
                          const ClassifyOptions& options) const;

  // The upload's log-mel (the model's feature config) as the bytes of a float32 .npy of shape
  // (n_mels, frames): the middle excerpt, or the whole track. Throws genre::Error for bad audio.
  std::string features_npy(const std::string& bytes, const std::string& name, bool whole) const;

  const ModelInfo& info() const { return predictor_.model().info; }
  const std::string& model_path() const { return model_path_; }
  // The model file's name without its directory (responses never show server paths).
  std::string model_file() const;
  std::string model_id() const;  // the file name without extension

 private:
  std::string model_path_;
  Predictor predictor_;
};

}  // namespace genre::serve
