// Front-end speed: ms per 30 s 22.05 kHz mono track for each stage, on 1 thread and on all cores,
// next to torchaudio (load + Resample + MelSpectrogram(slaney) + AmplitudeToDB) in the same run.
#include <benchmark/benchmark.h>
#include <sndfile.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <random>

#include "audio/audio.h"
#include "bench_support.h"
#include "common/parallel.h"
#include "features/features.h"

namespace {

using namespace genre;

std::string g_track;                 // the 30 s track every benchmark reads
std::map<std::string, double> g_ms;  // measured ms per track, by stage

// A 30 s 22.05 kHz mono FLAC: a GTZAN clip when ../shared is there, else generated music-like
// noise.
std::string prepare_track() {
  const std::string shared = bench::shared_dir();
  if (!shared.empty() && std::filesystem::exists(shared + "/gtzan/blues/blues.00000.flac"))
    return shared + "/gtzan/blues/blues.00000.flac";
  const std::string path = std::filesystem::temp_directory_path() / "genre_bench_track.flac";
  std::vector<float> y(22050 * 30);
  std::mt19937 rng(1);
  std::normal_distribution<float> n(0, 0.05f);
  for (std::size_t i = 0; i < y.size(); ++i)
    y[i] = 0.3f * std::sin(2 * M_PI * 220 * i / 22050.0) + n(rng);
  SF_INFO info{};
  info.samplerate = 22050;
  info.channels = 1;
  info.format = SF_FORMAT_FLAC | SF_FORMAT_PCM_16;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  sf_writef_float(f, y.data(), static_cast<sf_count_t>(y.size()));
  sf_close(f);
  return path;
}

void BM_Decode(benchmark::State& state) {
  for (auto _ : state) {
    int rate = 0;
    benchmark::DoNotOptimize(decode_mono(g_track, &rate));
  }
}

void BM_Resample(benchmark::State& state) {
  int rate = 0;
  const auto y = decode_mono(g_track, &rate);
  for (auto _ : state) benchmark::DoNotOptimize(resample(y, rate, 12000));
}

void BM_StftMel(benchmark::State& state) {
  const auto y = load_mono(g_track, 12000);
  const FeatureConfig c = feature_default_params();
  std::vector<float> excerpt(c.excerpt_samples, 0.0f);
  std::copy(y.begin(), y.begin() + std::min<std::size_t>(y.size(), excerpt.size()),
            excerpt.begin());
  const MelSpectrogram& mel = mel_spectrogram_for(c);
  for (auto _ : state) benchmark::DoNotOptimize(mel.mel_power(excerpt.data(), excerpt.size()));
}

void BM_Log(benchmark::State& state) {
  const FeatureConfig c = feature_default_params();
  const MelSpectrogram& mel = mel_spectrogram_for(c);
  const auto y = load_mono(g_track, 12000);
  const Spectrogram power =
      mel.mel_power(y.data(), std::min<std::size_t>(y.size(), c.excerpt_samples));
  for (auto _ : state) {
    Spectrogram s = power;
    mel.power_to_db(s);
    benchmark::DoNotOptimize(s);
  }
}

void BM_Total(benchmark::State& state) {
  const FeatureConfig c = feature_default_params();
  for (auto _ : state) benchmark::DoNotOptimize(extract_logmel(g_track, c));
}

// All cores: N tracks at once; the reported time is per track (wall time / N).
void BM_TotalAllCores(benchmark::State& state) {
  const FeatureConfig c = feature_default_params();
  const int threads = hardware_threads();
  const std::size_t per_round = static_cast<std::size_t>(threads) * 4;
  for (auto _ : state) {
    parallel_for(per_round, threads,
                 [&](std::size_t) { benchmark::DoNotOptimize(extract_logmel(g_track, c)); });
  }
  state.SetItemsProcessed(state.iterations() * per_round);
}

class Collector : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& r : runs) {
      double ms = r.GetAdjustedRealTime() * 1e3 / benchmark::GetTimeUnitMultiplier(r.time_unit);
      std::string name = r.benchmark_name();
      name = name.substr(0, name.find('/'));
      if (name == "BM_TotalAllCores") ms /= 4.0 * hardware_threads();  // tracks per iteration
      g_ms[name] = ms;
    }
  }
};

}  // namespace

BENCHMARK(BM_Decode)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Resample)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_StftMel)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Log)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Total)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TotalAllCores)->Unit(benchmark::kMillisecond)->UseRealTime();

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  g_track = prepare_track();
  std::printf("track: %s\n", g_track.c_str());
  Collector collector;
  benchmark::RunSpecifiedBenchmarks(&collector);

  nlohmann::json base;
  if (bench::python_has("torchaudio"))
    base = bench::run_json("/usr/bin/python3 " GENRE_BENCH_PYTHON_DIR "/baseline_features.py " +
                           g_track);
  if (base.is_null()) {
    std::printf("\ntorchaudio baseline unavailable (Debian python3-torchaudio): no ratios\n");
    return 0;
  }
  std::printf(
      "\nms per 30 s track; ratio = baseline / genre (higher is faster). Baseline: torchaudio, 1 "
      "thread.\n");
  const std::pair<const char*, const char*> rows[] = {{"BM_Decode", "decode"},
                                                      {"BM_Resample", "resample"},
                                                      {"BM_StftMel", "stft_mel"},
                                                      {"BM_Log", "log"},
                                                      {"BM_Total", "total"}};
  for (const auto& [ours, theirs] : rows)
    bench::print_ratio(std::string(theirs) + " (1 thread)", g_ms[ours], base.value(theirs, 0.0),
                       "ms", false);
  bench::print_ratio("total, all cores (per track)", g_ms["BM_TotalAllCores"],
                     base.value("total", 0.0), "ms", false);
  benchmark::Shutdown();
  return 0;
}
