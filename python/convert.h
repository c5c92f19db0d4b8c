// The Python module's conversions between numpy arrays, Python objects and genre's types.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
#include <vector>

#include "features/feature_config.h"
#include "features/features.h"

namespace genre::python {

namespace py = pybind11;

// Any numeric array, converted to contiguous float32 on the way in.
using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;

// One input of logmel()/predict(): a path (str or os.PathLike), a 1-D signal or a 2-D log-mel.
struct Input {
  std::string path;           // set for files
  std::vector<float> signal;  // 1-D arrays
  Spectrogram logmel;         // 2-D arrays [n_mels, frames]
  bool is_path() const { return !path.empty(); }
  bool is_logmel() const { return logmel.n_mels > 0; }
};

// Reads an input while holding the GIL (the arrays are copied, so the work after it can run
// without the GIL). Throws py::type_error / py::value_error for anything else.
Input to_input(const py::handle& object);
// A single input or a list/tuple of them; `single` tells which it was.
std::vector<Input> to_inputs(const py::handle& object, bool* single);

// Moves the data into numpy arrays without copying it again.
py::array_t<float> to_numpy(std::vector<float>&& values);
py::array_t<float> to_numpy(std::vector<float>&& values, py::ssize_t rows, py::ssize_t cols);
py::array_t<float> to_numpy(Spectrogram&& spectrogram);  // [n_mels, n_frames]

// FeatureConfig <-> Python dict, through the JSON form model files store.
FeatureConfig feature_config_from_dict(const py::dict& config);
py::dict to_dict(const FeatureConfig& config);

// genre.Error: a RuntimeError carrying genre's message, plus .kind ("not_found", "corrupt", ...)
// and .path. Registered once by the module; raise_error() sets it as the pending Python error.
void register_error_type(py::module_& m);
[[noreturn]] void raise_error(const std::string& message, const std::string& kind,
                              const std::string& path);

}  // namespace genre::python
