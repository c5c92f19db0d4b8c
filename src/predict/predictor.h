// genre/predict: classify many inputs with one model, decoding on worker threads and running the
// model in batches, in input order, with memory bounded however many inputs there are.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "../model/inference.h"
#include "../model/model_file.h"
#include "segments.h"

namespace genre {

struct PredictParams {
  int batch_size = 16;
  int jobs = 0;     // decode threads (<= 0: half of --threads on the CPU, all cores on a GPU)
  int threads = 0;  // model threads (<= 0: all cores); on the CPU each runs whole batches
  std::string device = "auto";     // auto | cpu | cuda
  std::string precision = "fp32";  // fp32 | bf16 | fp16 (model/precision.h)
  bool segments = false;  // genre over time: windows of the model's crops over the whole track
  SegmentParams segment;
  CropPolicy crop_policy = CropPolicy::kSharedConv;
};

PredictParams predict_default_params();

struct Prediction {
  std::string input;
  std::string error, error_kind;     // empty when ok
  std::vector<float> probabilities;  // track level, one per class
  double seconds = 0;                // audio analysed (excerpt or whole track)
  Segments segments;                 // with PredictParams::segments: genre over time
  bool ok() const { return error.empty(); }
};

class Predictor {
 public:
  Predictor(Model model, PredictParams params);

  // Calls on_result once per input, in input order. Inputs ending in .npy are log-mel arrays
  // (as `genre features` writes them, or shaped 1x1xMxT) and skip the audio front end.
  void run(const std::vector<std::string>& inputs,
           const std::function<void(std::size_t, Prediction&)>& on_result);

  const Model& model() const { return model_; }

  // A predictor over this one's loaded, already prepared model (shared, not copied) with other
  // parameters (the device stays this one's): a service runs each request with its own options
  // (segments, hop) on one model. Safe to call while other predictors run.
  Predictor with_params(PredictParams params) const;

 private:
  Predictor(Model model, PredictParams params, torch::Device device);  // no preparation
  struct Item;  // one input on its way through: log-mel, then result
  void infer(std::vector<Item>& batch, int batch_size);
  void infer_segments(Item& item, int batch_size);
  // Genre over time from crop probabilities [crops, classes] and the crops' first frames.
  void set_segments(Prediction& result, const torch::Tensor& probs,
                    const std::vector<int>& offsets) const;
  int crop_frames() const;         // the model's crop
  int segment_hop_frames() const;  // --segments runs a crop every half crop

  Model model_;
  PredictParams params_;
  torch::Device device_;
};

// The shipped model: $GENRE_MODEL, else models/genre-gtzan.pt next to the installed binary
// (PREFIX/share/genre/models), the build tree or the source tree. Empty when none is found.
std::string find_default_model(const std::string& argv0);

// A model argument: an existing file as it is, else a shipped model's name ("msd-tags" or
// "msd-tags.pt") looked up where find_default_model looks. Unchanged when nothing matches, so
// loading it reports the missing file.
std::string resolve_model_argument(const std::string& name_or_path);

}  // namespace genre
