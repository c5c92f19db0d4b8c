#include "support/test_support.h"

#include <sndfile.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "common/error.h"
#include "model/model_file.h"

namespace genre::test {

namespace fs = std::filesystem;

std::string shared_dir() {
  const char* env = std::getenv("GENRE_SHARED");
  const std::string dir = env && *env ? env : std::string(GENRE_SOURCE_DIR) + "/../shared";
  return fs::is_directory(dir) ? fs::canonical(dir).string() : std::string();
}

TempDir::TempDir() {
  static int counter = 0;
  path_ = (fs::path(GENRE_TEST_TMP) /
           ("t" + std::to_string(::getpid()) + "_" + std::to_string(counter++)))
              .string();
  fs::remove_all(path_);
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

void write_audio(const std::string& path, const std::vector<float>& interleaved, int sample_rate,
                 int channels, int format) {
  SF_INFO info{};
  info.samplerate = sample_rate;
  info.channels = channels;
  info.format = format;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  if (!f) throw std::runtime_error("cannot write " + path + ": " + sf_strerror(nullptr));
  sf_command(f, SFC_SET_CLIPPING, nullptr, SF_TRUE);
  sf_writef_float(f, interleaved.data(), static_cast<sf_count_t>(interleaved.size() / channels));
  sf_close(f);
}

std::vector<float> sine(double freq, double seconds, int rate, float amplitude) {
  std::vector<float> y(static_cast<std::size_t>(seconds * rate));
  for (std::size_t i = 0; i < y.size(); ++i)
    y[i] = amplitude * static_cast<float>(std::sin(2 * M_PI * freq * i / rate));
  return y;
}

std::vector<float> noise(double seconds, int rate, std::uint32_t seed, float amplitude) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-amplitude, amplitude);
  std::vector<float> y(static_cast<std::size_t>(seconds * rate));
  for (auto& v : y) v = dist(rng);
  return y;
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

void make_synthetic_dataset(const std::string& dir, int per_class, double seconds,
                            std::uint32_t seed) {
  const int rate = 12000;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (const std::string cls : {"tone", "noise", "clicks", "chirp"}) {
    fs::create_directories(dir + "/" + cls);
    for (int k = 0; k < per_class; ++k) {
      const std::size_t n = static_cast<std::size_t>(seconds * rate);
      std::vector<float> y(n, 0.0f);
      if (cls == "tone") {
        y = sine(200 + 600 * u(rng), seconds, rate, 0.4f);
      } else if (cls == "noise") {
        y = noise(seconds, rate, rng(), 0.3f);
      } else if (cls == "clicks") {
        const int period = static_cast<int>(rate * (0.1 + 0.1 * u(rng)));
        for (std::size_t i = 0; i < n; i += period)
          for (int j = 0; j < 30 && i + j < n; ++j)
            y[i + j] = (j % 2 ? -0.8f : 0.8f) * (1 - j / 30.0f);
      } else {
        const double f0 = 300 + 300 * u(rng), f1 = 3000 + 2000 * u(rng), sweep = 0.5;
        double phase = 0;
        for (std::size_t i = 0; i < n; ++i) {
          const double t = std::fmod(static_cast<double>(i) / rate, sweep) / sweep;
          phase += 2 * M_PI * (f0 + (f1 - f0) * t) / rate;
          y[i] = 0.4f * static_cast<float>(std::sin(phase));
        }
      }
      write_audio(dir + "/" + cls + "/" + cls + "." + std::to_string(k) + ".wav", y, rate, 1,
                  SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    }
  }
}

int error_kind_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const genre::Error& e) {
    return static_cast<int>(e.kind());
  }
  ADD_FAILURE() << "no genre::Error thrown";
  return -1;
}

std::string genre_binary() { return GENRE_BINARY; }

int run_command(const std::string& command, std::string* out, std::string* err) {
  const std::string err_file =
      fs::temp_directory_path() / ("genre_err_" + std::to_string(::getpid()));
  const std::string full = command + " 2>" + err_file;
  FILE* pipe = ::popen(full.c_str(), "r");
  if (!pipe) return -1;
  std::array<char, 4096> buf;
  std::string captured;
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) captured.append(buf.data(), n);
  const int status = ::pclose(pipe);
  if (out) *out = captured;
  if (err) {
    std::ifstream in(err_file);
    std::stringstream ss;
    ss << in.rdbuf();
    *err = ss.str();
  }
  fs::remove(err_file);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void write_tiny_tagger(const std::string& path, int seed) {
  torch::manual_seed(seed);
  ModelInfo info;
  info.arch.channels = {8, 8};
  info.arch.pools = {{4, 4}, {24, 4}};
  info.arch.activation = "relu";
  info.arch.input_norm = "global";
  info.arch.gru_hidden = 8;
  info.arch.n_classes = 6;
  info.arch.mode = OutputMode::kMultiLabel;
  for (int i = 0; i < 6; ++i) info.classes.push_back("tag" + std::to_string(i));
  info.provenance = {{"licence", "MIT"}};
  save_model(path, make_model(info));
}

}  // namespace genre::test
