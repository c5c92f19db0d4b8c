#include "convert.h"

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace genre::python {

namespace {

// The genre.Error type object, owned by the module for the life of the interpreter.
py::handle& error_type() {
  static py::handle type;
  return type;
}

std::vector<float> copy_signal(const FloatArray& a) {
  if (a.size() == 0) throw py::value_error("genre: empty signal");
  return std::vector<float>(a.data(), a.data() + a.size());
}

Spectrogram copy_logmel(const FloatArray& a) {
  if (a.shape(0) == 0 || a.shape(1) == 0) throw py::value_error("genre: empty log-mel");
  Spectrogram s;
  s.n_mels = static_cast<int>(a.shape(0));
  s.n_frames = static_cast<int>(a.shape(1));
  s.data.assign(a.data(), a.data() + a.size());
  return s;
}

}  // namespace

Input to_input(const py::handle& object) {
  Input input;
  if (py::isinstance<py::str>(object) || py::hasattr(object, "__fspath__")) {
    input.path = py::str(py::module_::import("os").attr("fspath")(object));
    if (input.path.empty()) throw py::value_error("genre: empty path");
    return input;
  }
  if (!py::isinstance<py::array>(object) && !py::isinstance<py::list>(object))
    throw py::type_error("genre: expected a path or a numpy array, got " +
                         std::string(py::str(py::type::of(object))));
  const auto array = FloatArray::ensure(object);
  if (!array) throw py::type_error("genre: cannot read the array as numbers");
  if (array.ndim() == 1) {
    input.signal = copy_signal(array);
  } else if (array.ndim() == 2) {
    input.logmel = copy_logmel(array);
  } else {
    throw py::value_error("genre: expected a 1-D signal or a 2-D log-mel [n_mels, frames], got " +
                          std::to_string(array.ndim()) + " dimensions");
  }
  return input;
}

std::vector<Input> to_inputs(const py::handle& object, bool* single) {
  std::vector<Input> inputs;
  // A list of numbers is one signal; a list of paths or arrays is several inputs.
  const bool many = (py::isinstance<py::list>(object) || py::isinstance<py::tuple>(object)) &&
                    py::len(object) > 0 && !PyNumber_Check(object[py::int_(0)].ptr());
  *single = !many;
  if (!many) {
    inputs.push_back(to_input(object));
    return inputs;
  }
  for (const py::handle item : object) inputs.push_back(to_input(item));
  return inputs;
}

py::array_t<float> to_numpy(std::vector<float>&& values) {
  auto* owned = new std::vector<float>(std::move(values));
  py::capsule free_when_done(owned, [](void* p) { delete static_cast<std::vector<float>*>(p); });
  return py::array_t<float>({static_cast<py::ssize_t>(owned->size())}, owned->data(),
                            free_when_done);
}

py::array_t<float> to_numpy(std::vector<float>&& values, py::ssize_t rows, py::ssize_t cols) {
  auto* owned = new std::vector<float>(std::move(values));
  py::capsule free_when_done(owned, [](void* p) { delete static_cast<std::vector<float>*>(p); });
  return py::array_t<float>({rows, cols}, owned->data(), free_when_done);
}

py::array_t<float> to_numpy(Spectrogram&& spectrogram) {
  return to_numpy(std::move(spectrogram.data), spectrogram.n_mels, spectrogram.n_frames);
}

FeatureConfig feature_config_from_dict(const py::dict& config) {
  const std::string text = py::str(py::module_::import("json").attr("dumps")(config));
  // Fields left out keep the librosa defaults; unknown ones are an error.
  nlohmann::json j = feature_default_params();
  const nlohmann::json given = nlohmann::json::parse(text);
  for (const auto& [key, value] : given.items()) {
    if (!j.contains(key)) throw py::key_error("genre: unknown feature config field '" + key + "'");
    j[key] = value;
  }
  FeatureConfig c = j.get<FeatureConfig>();
  c.validate();
  return c;
}

py::dict to_dict(const FeatureConfig& config) {
  const nlohmann::json j = config;
  return py::module_::import("json").attr("loads")(j.dump());
}

void register_error_type(py::module_& m) {
  error_type() = py::exception<Error>(m, "Error", PyExc_RuntimeError).release();
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Error& e) {
      py::object error = error_type()(e.what());
      error.attr("kind") = error_kind_name(e.kind());
      error.attr("path") = e.path();
      PyErr_SetObject(error_type().ptr(), error.ptr());
    }
  });
}

void raise_error(const std::string& message, const std::string& kind, const std::string& path) {
  py::object error = error_type()(message);
  error.attr("kind") = kind;
  error.attr("path") = path;
  PyErr_SetObject(error_type().ptr(), error.ptr());
  throw py::error_already_set();
}

}  // namespace genre::python
