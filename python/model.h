// genre.Model: a model file loaded once, classifying paths and arrays from Python.
#pragma once

#include <pybind11/pybind11.h>

#include <optional>
#include <string>
#include <vector>

#include "convert.h"
#include "predict/predictor.h"

namespace genre::python {

class PyModel {
 public:
  PyModel(const std::string& path, const std::string& device, int threads, int batch_size);

  const std::vector<std::string>& classes() const { return model_.info.classes; }
  const std::string& path() const { return path_; }
  py::dict feature_config() const { return to_dict(model_.info.features); }
  py::object metadata() const;

  // One dict per input (or one dict for a single input): label, top, probabilities, seconds.
  py::object predict(const py::handle& inputs, int top_k, const std::string& errors);
  // Probabilities of successive windows over the whole track: starts, probabilities, seconds.
  py::dict window_probabilities(const py::handle& input, std::optional<double> hop_seconds);
  // The log-mel this model reads, with its own front end: [n_mels, frames].
  py::array_t<float> logmel(const py::handle& input, bool excerpt);

 private:
  struct Result;
  std::vector<Result> predict_files(const std::vector<std::string>& paths);
  Result predict_array(Input& input);
  Spectrogram whole_logmel(Input& input) const;
  py::dict result_dict(Result& result, int top_k) const;

  std::string path_;
  Model model_;
  Predictor predictor_;
  torch::Device device_;
  int batch_size_;
};

void bind_model(py::module_& m);

}  // namespace genre::python
