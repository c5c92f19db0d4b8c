// Data-parallel training speed: `genre train` samples/s with 1 and 2 processes on this machine
// (one thread each, launched by scripts/launch-local, 16 examples per process and step, the
// default CRNN on 29.12 s excerpts), next to PyTorch's DistributedDataParallel over Gloo in
// Python (bench/python/baseline_ddp.py) measured in the same run, and the scaling efficiency of
// 2 processes (rate with 2 / (2 x rate with 1)).
//   bench_distributed [tracks=64] [epochs=3]
#include <sndfile.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "bench_support.h"

namespace {

namespace fs = std::filesystem;
using namespace genre;

// `tracks` 30 s clips of coloured noise at 12 kHz in four class folders.
void make_dataset(const std::string& dir, int tracks) {
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 0.2f);
  for (int i = 0; i < tracks; ++i) {
    const std::string cls = dir + "/class" + std::to_string(i % 4);
    fs::create_directories(cls);
    std::vector<float> y(30 * 12000);
    float low = 0;
    for (auto& v : y) v = (low = 0.1f * (i % 4) * low + normal(rng));
    SF_INFO info{};
    info.samplerate = 12000, info.channels = 1, info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
    SNDFILE* f = sf_open((cls + "/t" + std::to_string(i) + ".wav").c_str(), SFM_WRITE, &info);
    sf_writef_float(f, y.data(), static_cast<sf_count_t>(y.size()));
    sf_close(f);
  }
}

// Mean training samples/s of the epochs after the first, from a genre training log.
double logged_rate(const std::string& log) {
  std::ifstream in(log);
  double sum = 0;
  int n = 0, epoch = 0;
  for (std::string line; std::getline(in, line);)
    if (++epoch > 1) sum += nlohmann::json::parse(line)["samples_per_second"].get<double>(), ++n;
  return n ? sum / n : 0;
}

double genre_rate(const std::string& data, const std::string& out, int world, int epochs) {
  const std::string train = std::string(GENRE_BINARY) + " train --data " + data +
                            " --split none --batch-size 16 --threads 1 --no-cache -q --epochs " +
                            std::to_string(epochs) + " -o " + out + " --log " + out + ".log";
  const std::string command = world == 1
                                  ? train
                                  : std::string(GENRE_SOURCE_DIR) + "/scripts/launch-local " +
                                        std::to_string(world) + " -- " + train;
  if (std::system((command + " > /dev/null").c_str()) != 0) return 0;
  return logged_rate(out + ".log");
}

double python_rate(int world) {
  const auto j = bench::run_json("/usr/bin/python3 " + std::string(GENRE_BENCH_PYTHON_DIR) +
                                 "/baseline_ddp.py " + std::to_string(world) + " 1 16 4");
  return j.is_null() ? 0 : j["samples_per_second"].get<double>();
}

}  // namespace

int main(int argc, char** argv) {
  const int tracks = argc > 1 ? std::atoi(argv[1]) : 64;
  const int epochs = argc > 2 ? std::atoi(argv[2]) : 3;
  std::printf("%s\n", bench::cpu_description().c_str());
  const fs::path dir =
      fs::temp_directory_path() / ("genre-bench-dist-" + std::to_string(::getpid()));
  make_dataset((dir / "data").string(), tracks);
  const bool python = bench::python_has("torch");
  if (!python) std::printf("(no /usr/bin/python3 with torch: baseline skipped)\n");
  double genre1 = 0, genre2 = 0, py1 = 0, py2 = 0;
  genre1 = genre_rate((dir / "data").string(), (dir / "one.pt").string(), 1, epochs);
  genre2 = genre_rate((dir / "data").string(), (dir / "two.pt").string(), 2, epochs);
  if (python) py1 = python_rate(1), py2 = python_rate(2);
  bench::print_ratio("train, 1 process x 1 thread", genre1, py1, "samples/s", true);
  bench::print_ratio("train, 2 processes x 1 thread", genre2, py2, "samples/s", true);
  std::printf("\nscaling efficiency of 2 processes: genre %.2f, PyTorch DDP %.2f\n",
              genre1 > 0 ? genre2 / (2 * genre1) : 0, py1 > 0 ? py2 / (2 * py1) : 0);
  fs::remove_all(dir);
  return genre1 > 0 && genre2 > 0 ? 0 : 1;
}
