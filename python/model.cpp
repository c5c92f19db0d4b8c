#include "model.h"

#include <pybind11/stl.h>

#include <algorithm>
#include <numeric>

#include "common/error.h"
#include "model/inference.h"

namespace genre::python {

namespace {

PredictParams predict_params(const std::string& device, int threads, int batch_size) {
  PredictParams p = predict_default_params();
  p.device = device;
  p.threads = threads;
  p.jobs = threads;
  p.batch_size = batch_size;
  return p;
}

}  // namespace

struct PyModel::Result {
  std::string input;
  std::string error, error_kind;
  std::vector<float> probabilities;
  double seconds = 0;
};

PyModel::PyModel(const std::string& path, const std::string& device, int threads, int batch_size)
    : path_(path),
      predictor_(load_model(resolve_model_argument(path), torch::kCPU),
                 predict_params(device, threads, batch_size)),
      device_(resolve_device(device)),
      batch_size_(batch_size) {
  // The predictor has moved the network to its device and prepared it for inference; this copy
  // shares that network for array inputs and windows.
  model_ = predictor_.model();
}

py::object PyModel::metadata() const {
  return py::module_::import("json").attr("loads")(model_metadata(model_.info).dump());
}

// Files go through genre's Predictor: decoding on worker threads, the model in batches, exactly
// what `genre predict` computes.
std::vector<PyModel::Result> PyModel::predict_files(const std::vector<std::string>& paths) {
  std::vector<Result> results(paths.size());
  predictor_.run(paths, [&](std::size_t i, Prediction& p) {
    results[i] = Result{p.input, p.error, p.error_kind, std::move(p.probabilities), p.seconds};
  });
  return results;
}

// A 1-D signal at the model's sample rate is cut to its middle excerpt as a file would be; a
// 2-D array is a log-mel already.
PyModel::Result PyModel::predict_array(Input& input) {
  const FeatureConfig& fc = model_.info.features;
  Spectrogram logmel =
      input.is_logmel() ? std::move(input.logmel) : logmel_excerpt(input.signal, fc);
  if (logmel.n_mels != model_.info.arch.n_mels)
    throw Error(ErrorKind::kInvalidArgument, "",
                "log-mel has " + std::to_string(logmel.n_mels) + " mel bins; the model expects " +
                    std::to_string(model_.info.arch.n_mels));
  const int valid = signal_frames(logmel);
  const torch::Tensor p =
      track_probabilities(model_, {&logmel}, {valid}, batch_size_, device_).to(torch::kCPU);
  Result r;
  r.input = "<array>";
  r.probabilities.assign(p.data_ptr<float>(), p.data_ptr<float>() + p.numel());
  r.seconds = valid * fc.seconds_per_frame();
  return r;
}

py::dict PyModel::result_dict(Result& r, int top_k) const {
  py::dict d;
  d["input"] = r.input;
  if (!r.error.empty()) {
    d["error"] = r.error;
    d["error_kind"] = r.error_kind;
    return d;
  }
  std::vector<int> order(r.probabilities.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return r.probabilities[a] > r.probabilities[b]; });
  py::list top;
  for (int k = 0; k < std::min<int>(top_k, static_cast<int>(order.size())); ++k)
    top.append(py::make_tuple(classes()[order[k]], r.probabilities[order[k]]));
  d["label"] = classes()[order[0]];
  d["top"] = top;
  d["seconds"] = r.seconds;
  d["probabilities"] = to_numpy(std::move(r.probabilities));
  return d;
}

py::object PyModel::predict(const py::handle& inputs_object, int top_k, const std::string& errors) {
  if (errors != "raise" && errors != "keep")
    throw py::value_error("genre: errors must be 'raise' or 'keep'");
  bool single = false;
  std::vector<Input> inputs = to_inputs(inputs_object, &single);
  std::vector<std::string> paths;
  for (const Input& in : inputs)
    if (in.is_path()) paths.push_back(in.path);
  std::vector<Result> results;
  {
    py::gil_scoped_release release;
    std::vector<Result> files = paths.empty() ? std::vector<Result>{} : predict_files(paths);
    std::size_t next_file = 0;
    for (Input& in : inputs)
      results.push_back(in.is_path() ? std::move(files[next_file++]) : predict_array(in));
  }
  py::list out;
  for (Result& r : results) {
    if (!r.error.empty() && errors == "raise") raise_error(r.error, r.error_kind, r.input);
    out.append(result_dict(r, top_k));
  }
  return single ? out[0] : py::object(out);
}

Spectrogram PyModel::whole_logmel(Input& input) const {
  const FeatureConfig& fc = model_.info.features;
  if (input.is_path()) return extract_logmel(input.path, fc, /*whole=*/true);
  if (input.is_logmel()) return std::move(input.logmel);
  return logmel_whole(input.signal, fc);
}

py::dict PyModel::window_probabilities(const py::handle& input_object,
                                       std::optional<double> hop_seconds) {
  Input input = to_input(input_object);
  const FeatureConfig& fc = model_.info.features;
  const int crop_frames =
      model_.info.arch.input_frames > 0 ? model_.info.arch.input_frames : fc.excerpt_frames();
  // Half a crop by default, as `genre predict --segments` reads a track.
  const int hop_frames = hop_seconds
                             ? std::max(1, static_cast<int>(*hop_seconds / fc.seconds_per_frame()))
                             : std::max(1, crop_frames / 2);
  std::vector<int> offsets;
  torch::Tensor probs;
  {
    py::gil_scoped_release release;
    const Spectrogram logmel = whole_logmel(input);
    probs = genre::window_probabilities(model_, logmel, hop_frames, batch_size_, device_, &offsets)
                .to(torch::kCPU)
                .contiguous();
  }
  std::vector<float> starts;
  for (int o : offsets) starts.push_back(static_cast<float>(o * fc.seconds_per_frame()));
  const py::ssize_t windows = probs.size(0), n_classes = probs.size(1);
  std::vector<float> table(probs.data_ptr<float>(), probs.data_ptr<float>() + probs.numel());
  py::dict d;
  d["starts"] = to_numpy(std::move(starts));
  d["window_seconds"] = crop_frames * fc.seconds_per_frame();
  d["probabilities"] = to_numpy(std::move(table), windows, n_classes);
  return d;
}

py::array_t<float> PyModel::logmel(const py::handle& input_object, bool excerpt) {
  Input input = to_input(input_object);
  if (input.is_logmel()) throw py::value_error("genre: the input is a log-mel already");
  const FeatureConfig& fc = model_.info.features;
  Spectrogram s;
  {
    py::gil_scoped_release release;
    if (input.is_path())
      s = extract_logmel(input.path, fc, !excerpt);
    else
      s = excerpt ? logmel_excerpt(input.signal, fc) : logmel_whole(input.signal, fc);
  }
  return to_numpy(std::move(s));
}

void bind_model(py::module_& m) {
  py::class_<PyModel>(m, "Model", R"(A genre model file, loaded once.

Model(path="genre-gtzan", device="cpu", threads=0, batch_size=16): path is a model file or the
name of a shipped model; threads <= 0 uses every core.)")
      .def(py::init<const std::string&, const std::string&, int, int>(),
           py::arg("path") = "genre-gtzan", py::arg("device") = "cpu", py::arg("threads") = 0,
           py::arg("batch_size") = 16)
      .def_property_readonly("classes", &PyModel::classes, "Class names, in output order")
      .def_property_readonly("path", &PyModel::path)
      .def_property_readonly("feature_config", &PyModel::feature_config,
                             "The model's front end (a dict, as stored in the model file)")
      .def_property_readonly("metadata", &PyModel::metadata, "Everything `genre info` shows")
      .def("predict", &PyModel::predict, py::arg("inputs"), py::arg("top_k") = 3,
           py::arg("errors") = "raise",
           R"(Classifies one input or a list of them: paths (decoded on worker threads, like
`genre predict`), 1-D signals at the model's sample rate, or 2-D log-mels from Model.logmel.
Returns a dict per input: label, top [(class, probability)], probabilities (float32 array),
seconds. errors="raise" raises genre.Error at the first input that fails; "keep" returns a dict
with "error" and "error_kind" for it instead.)")
      .def("window_probabilities", &PyModel::window_probabilities, py::arg("input"),
           py::arg("hop_seconds") = py::none(),
           R"(Probabilities of the model's windows over the whole track, every hop_seconds
(default: half a window): a dict with starts (seconds), window_seconds and probabilities
[windows, classes].)")
      .def("logmel", &PyModel::logmel, py::arg("input"), py::arg("excerpt") = true,
           "The log-mel this model reads, computed with its own front end");
}

}  // namespace genre::python
