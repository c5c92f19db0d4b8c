// The Python module `genre`: genre's decoder, librosa-identical log-mel front end and models,
// numpy arrays in and out. Decoding, features and inference run without the GIL.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>

#include "audio/audio.h"
#include "convert.h"
#include "model.h"

namespace genre::python {

namespace {

py::array_t<float> load(const std::string& path, int sr) {
  std::vector<float> signal;
  {
    py::gil_scoped_release release;
    signal = load_mono(path, sr);
  }
  return to_numpy(std::move(signal));
}

FeatureConfig logmel_config(int sr, int n_fft, int hop_length, int n_mels,
                            const std::optional<py::dict>& config) {
  FeatureConfig c = config ? feature_config_from_dict(*config) : feature_default_params();
  if (!config) {
    c.sample_rate = sr;
    c.n_fft = n_fft;
    c.hop_length = hop_length;
    c.n_mels = n_mels;
    c.validate();
  }
  return c;
}

// A path is decoded and resampled to sr first; a 1-D array is a signal at sr already.
py::array_t<float> logmel(const py::handle& input_object, int sr, int n_fft, int hop_length,
                          int n_mels, bool excerpt, const std::optional<py::dict>& config) {
  Input input = to_input(input_object);
  if (input.is_logmel()) throw py::value_error("genre: logmel() takes a path or a 1-D signal");
  const FeatureConfig c = logmel_config(sr, n_fft, hop_length, n_mels, config);
  Spectrogram s;
  {
    py::gil_scoped_release release;
    if (input.is_path())
      s = extract_logmel(input.path, c, /*whole=*/!excerpt);
    else
      s = excerpt ? logmel_excerpt(input.signal, c) : logmel_whole(input.signal, c);
  }
  return to_numpy(std::move(s));
}

}  // namespace

}  // namespace genre::python

PYBIND11_MODULE(genre, m) {
  namespace py = pybind11;
  using namespace genre::python;
  m.doc() = "genre: music genre classification (decoding, librosa-identical log-mels, CRNN models)";
  m.attr("__version__") = GENRE_VERSION;
  register_error_type(m);

  m.def("load", &load, py::arg("path"), py::arg("sr") = 12000,
        R"(librosa.load(path, sr=sr, mono=True): decoded, mixed to mono (mean of channels) and
resampled with soxr HQ. A float32 array.)");
  m.def("logmel", &logmel, py::arg("input"), py::arg("sr") = 12000, py::arg("n_fft") = 512,
        py::arg("hop_length") = 256, py::arg("n_mels") = 96, py::arg("excerpt") = false,
        py::arg("config") = py::none(),
        R"(Log-mel spectrogram [n_mels, frames] (float32) of a path or a 1-D signal at sr:
librosa.power_to_db(librosa.feature.melspectrogram(y, sr=sr, n_fft=n_fft,
hop_length=hop_length, n_mels=n_mels), top_db=80). excerpt=True reads only the middle 29.12 s
(what `genre features` writes and the models see). config: a whole feature config dict (e.g. a
Model's feature_config) instead of sr, n_fft, hop_length and n_mels.)");
  bind_model(m);
}
