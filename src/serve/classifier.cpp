#include "serve/classifier.h"

#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "audio/audio.h"
#include "common/error.h"
#include "features/features.h"
#include "features/npy.h"
#include "model/inference.h"
#include "serve/memory_file.h"

namespace genre::serve {

namespace fs = std::filesystem;

namespace {

PredictParams serve_params(const std::string& device) {
  PredictParams p = predict_default_params();
  p.device = device;
  p.jobs = 1;     // one decoder per request; the worker pool runs requests side by side
  p.threads = 1;  // and one model thread: N workers use N cores
  return p;
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
}

// A private temporary directory (memory-backed /dev/shm when there is one), removed with all
// its contents when this object dies.
class PrivateTempDir {
 public:
  PrivateTempDir() {
    std::error_code ec;
    const char* env = std::getenv("TMPDIR");
    const fs::path base = fs::is_directory("/dev/shm", ec) ? fs::path("/dev/shm")
                          : env && *env                    ? fs::path(env)
                                                           : fs::temp_directory_path();
    std::string templ = (base / ("genre-serve-" + std::to_string(::getpid()) + "-XXXXXX")).string();
    if (!::mkdtemp(templ.data())) throw Error(ErrorKind::kIo, templ, "cannot create temp dir");
    path_ = templ;
  }
  ~PrivateTempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  PrivateTempDir(const PrivateTempDir&) = delete;
  PrivateTempDir& operator=(const PrivateTempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

}  // namespace

Classifier::Classifier(const std::string& model_path, const std::string& device)
    : model_path_(model_path),
      predictor_(load_model(model_path, resolve_device(device)), serve_params(device)) {}

std::string Classifier::model_file() const { return fs::path(model_path_).filename().string(); }
std::string Classifier::model_id() const { return fs::path(model_path_).stem().string(); }

Classification Classifier::classify(const std::string& bytes, const std::string& name,
                                    const ClassifyOptions& options) const {
  const auto start = std::chrono::steady_clock::now();
  MemoryFile file(bytes);
  PredictParams params = serve_params("");
  params.segments = options.segments;
  params.segment.hop_seconds = options.hop_seconds;
  Classification out;
  predictor_.with_params(params).run(
      {file.path()}, [&](std::size_t, Prediction& p) { out.prediction = std::move(p); });
  Prediction& p = out.prediction;
  p.input = name;
  replace_all(p.error, file.path(), name);
  if (p.ok()) {
    try {
      const AudioInfo audio = probe_audio(file.path());
      out.duration_seconds = static_cast<double>(audio.frames) / audio.sample_rate;
    } catch (const Error&) {
      out.duration_seconds = p.seconds;
    }
  }
  out.run_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

std::string Classifier::features_npy(const std::string& bytes, const std::string& name,
                                     bool whole) const {
  MemoryFile file(bytes);
  Spectrogram logmel;
  try {
    logmel = extract_logmel(file.path(), info().features, whole);
  } catch (const Error& e) {
    std::string reason = e.reason();
    replace_all(reason, file.path(), name);
    throw Error(e.kind(), name, reason);
  }
  PrivateTempDir dir;
  const fs::path npy = dir.path() / "logmel.npy";
  write_npy(npy.string(), logmel);
  std::ifstream in(npy, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace genre::serve
