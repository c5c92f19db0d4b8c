// Front-end speed: ms per 30 s 22.05 kHz mono track for each stage (decode, resample, STFT + mel,
// dB, total) on 1 thread, for the same audio as WAV and as FLAC, next to torchaudio (load +
// Resample + MelSpectrogram(slaney) + AmplitudeToDB) at its fastest in the same run: once per
// BLAS found (Debian's reference BLAS, OpenBLAS) and allocator setting, keeping the fastest.
#include <benchmark/benchmark.h>
#include <sndfile.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>

#include "audio/audio.h"
#include "bench_support.h"
#include "common/parallel.h"
#include "features/features.h"

namespace {

using namespace genre;

struct Times {
  double wall = 0, cpu = 0;  // ms per track
};
std::map<std::string, Times> g_ms;  // by "stage/input"

// Writes 16-bit PCM samples to `path` in `format` (FLAC or WAV), 22.05 kHz mono.
void write_pcm16(const std::string& path, int format, const std::vector<short>& pcm) {
  SF_INFO info{};
  info.samplerate = 22050;
  info.channels = 1;
  info.format = format | SF_FORMAT_PCM_16;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  if (!f) throw std::runtime_error("cannot write " + path);
  sf_writef_short(f, pcm.data(), static_cast<sf_count_t>(pcm.size()));
  sf_close(f);
}

// The 30 s track as {WAV, FLAC}: a GTZAN clip when ../shared is there (its FLAC, and a WAV of the
// same 16-bit samples), else generated music-like noise in both formats.
std::pair<std::string, std::string> prepare_tracks() {
  const std::string tmp = std::filesystem::temp_directory_path() / "genre_bench_track";
  const std::string shared = bench::shared_dir();
  const std::string clip = shared + "/gtzan/blues/blues.00000.flac";
  std::vector<short> pcm;
  if (!shared.empty() && std::filesystem::exists(clip)) {
    SF_INFO info{};
    SNDFILE* f = sf_open(clip.c_str(), SFM_READ, &info);
    pcm.resize(static_cast<std::size_t>(info.frames) * info.channels);
    sf_readf_short(f, pcm.data(), info.frames);
    sf_close(f);
    write_pcm16(tmp + ".wav", SF_FORMAT_WAV, pcm);
    return {tmp + ".wav", clip};
  }
  pcm.resize(22050 * 30);
  std::mt19937 rng(1);
  std::normal_distribution<float> n(0, 0.05f);
  for (std::size_t i = 0; i < pcm.size(); ++i)
    pcm[i] = static_cast<short>(32767 * (0.3f * std::sin(2 * M_PI * 220 * i / 22050.0) + n(rng)));
  write_pcm16(tmp + ".wav", SF_FORMAT_WAV, pcm);
  write_pcm16(tmp + ".flac", SF_FORMAT_FLAC, pcm);
  return {tmp + ".wav", tmp + ".flac"};
}

void BM_Decode(benchmark::State& state, const std::string& path) {
  for (auto _ : state) {
    int rate = 0;
    benchmark::DoNotOptimize(decode_mono(path, &rate));
  }
}

void BM_Resample(benchmark::State& state, const std::string& path) {
  int rate = 0;
  const auto y = decode_mono(path, &rate);
  for (auto _ : state) benchmark::DoNotOptimize(resample(y, rate, 12000));
}

void BM_StftMel(benchmark::State& state, const std::string& path) {
  const FeatureConfig c = feature_default_params();
  const auto excerpt = load_middle_excerpt(path, 12000, c.excerpt_samples);
  const MelSpectrogram& mel = mel_spectrogram_for(c);
  for (auto _ : state) benchmark::DoNotOptimize(mel.mel_power(excerpt.data(), excerpt.size()));
}

// power_to_db, with a copy of the 525 kB mel matrix per iteration (it works in place).
void BM_Log(benchmark::State& state, const std::string& path) {
  const FeatureConfig c = feature_default_params();
  const MelSpectrogram& mel = mel_spectrogram_for(c);
  const auto excerpt = load_middle_excerpt(path, 12000, c.excerpt_samples);
  const Spectrogram power = mel.mel_power(excerpt.data(), excerpt.size());
  for (auto _ : state) {
    Spectrogram s = power;
    mel.power_to_db(s);
    benchmark::DoNotOptimize(s);
  }
}

void BM_Total(benchmark::State& state, const std::string& path) {
  const FeatureConfig c = feature_default_params();
  for (auto _ : state) benchmark::DoNotOptimize(extract_logmel(path, c));
}

// All cores: N tracks at once; the reported time is per track (wall time / N).
constexpr int kTracksPerThread = 4;
void BM_TotalAllCores(benchmark::State& state, const std::string& path) {
  const FeatureConfig c = feature_default_params();
  const int threads = hardware_threads();
  const std::size_t per_round = static_cast<std::size_t>(threads) * kTracksPerThread;
  for (auto _ : state) {
    parallel_for(per_round, threads,
                 [&](std::size_t) { benchmark::DoNotOptimize(extract_logmel(path, c)); });
  }
}

class Collector : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& r : runs) {
      const double unit = benchmark::GetTimeUnitMultiplier(r.time_unit);
      Times t{r.GetAdjustedRealTime() * 1e3 / unit, r.GetAdjustedCPUTime() * 1e3 / unit};
      std::string name = r.benchmark_name();
      name = name.substr(0, name.find("/real_time"));
      if (name.rfind("all_cores", 0) == 0) {
        t.wall /= kTracksPerThread * hardware_threads();  // tracks per iteration
        t.cpu = 0;  // the main thread's CPU time says nothing here
      }
      g_ms[name] = t;
    }
  }
};

// torchaudio's figures for `path` under each BLAS and allocator setting; the run with the lowest
// total CPU time wins. `blas` receives its name.
nlohmann::json best_baseline(const std::string& path, std::string* blas) {
  nlohmann::json best;
  for (const auto& [name, env] : bench::python_environments()) {
    nlohmann::json r = bench::run_json(
        env + "/usr/bin/python3 " GENRE_BENCH_PYTHON_DIR "/baseline_features.py " + path);
    if (r.is_null()) continue;
    std::printf("torchaudio on %s with %s: total %.2f ms CPU, %.2f ms wall\n", path.c_str(),
                name.c_str(), r["cpu"].value("total", 0.0), r["wall"].value("total", 0.0));
    if (best.is_null() || r["cpu"].value("total", 0.0) < best["cpu"].value("total", 0.0)) {
      best = r;
      *blas = name;
    }
  }
  return best;
}

void print_row(const std::string& what, const Times& ours, const nlohmann::json& base,
               const std::string& key) {
  const double bc = base["cpu"].value(key, 0.0), bw = base["wall"].value(key, 0.0);
  if (ours.cpu > 0)
    std::printf("%-26s %8.2f %8.2f %6.2fx", what.c_str(), ours.cpu, bc, bc / ours.cpu);
  else  // all cores: wall time only
    std::printf("%-26s %8s %8s %7s", what.c_str(), "-", "-", "-");
  std::printf(" %10.2f %8.2f %6.2fx\n", ours.wall, bw, ours.wall > 0 ? bw / ours.wall : 0.0);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  const auto [wav, flac] = prepare_tracks();
  const std::vector<std::pair<std::string, std::string>> inputs = {{"wav", wav}, {"flac", flac}};
  for (const auto& input : inputs) {
    auto reg = [&input](const std::string& stage,
                        void (*fn)(benchmark::State&, const std::string&)) {
      return benchmark::RegisterBenchmark((stage + "/" + input.first).c_str(), fn, input.second)
          ->Unit(benchmark::kMillisecond);
    };
    reg("decode", BM_Decode);
    reg("resample", BM_Resample);
    reg("stft_mel", BM_StftMel);
    reg("log", BM_Log);
    reg("total", BM_Total);
    reg("all_cores", BM_TotalAllCores)->UseRealTime();
  }
  std::printf("%s\nWAV: %s\nFLAC: %s\n", bench::cpu_description().c_str(), wav.c_str(),
              flac.c_str());
  Collector collector;
  benchmark::RunSpecifiedBenchmarks(&collector);

  if (!bench::python_has("torchaudio")) {
    std::printf("\ntorchaudio baseline unavailable (Debian python3-torchaudio): no ratios\n");
    return 0;
  }
  for (const auto& [kind, path] : inputs) {
    std::string blas;
    const nlohmann::json base = best_baseline(path, &blas);
    if (base.is_null()) continue;
    std::printf(
        "\n%s input, ms per 30 s track, 1 thread; ratio = torchaudio / genre (higher is faster).\n"
        "Baseline: torchaudio at its fastest here (%s). CPU: %s\n",
        kind.c_str(), blas.c_str(), bench::cpu_description().c_str());
    std::printf("%-26s %8s %8s %7s %10s %8s %7s\n", "stage", "genre", "torch", "ratio", "genre",
                "torch", "ratio");
    std::printf("%-26s %8s %8s %7s %10s %8s %7s\n", "", "CPU", "CPU", "CPU", "wall", "wall",
                "wall");
    for (const char* stage : {"decode", "resample", "stft_mel", "log", "total"})
      print_row(stage, g_ms[std::string(stage) + "/" + kind], base, stage);
    print_row("total, all cores/track", g_ms["all_cores/" + kind], base, "total");
  }
  benchmark::Shutdown();
  return 0;
}
