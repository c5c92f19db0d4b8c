// End to end: tracks/s of `genre predict` over a folder of 30 s clips on 2 cores, with peak RSS,
// next to a Python pipeline doing the same job (torchaudio features + the same model and weights
// in PyTorch, Debian python3-torch/python3-torchaudio) measured in the same run. The two sides
// take turns for ROUNDS rounds and each reports its median, so a noisy neighbour that slows one
// round does not decide the ratio.
//   bench_predict [FOLDER] [MODEL] [ROUNDS]   (default: ../shared/gtzan, models/genre-gtzan.pt, 3)
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "bench_support.h"
#include "data/inputs.h"

namespace {

struct RunStats {
  double seconds = 0;
  double peak_rss_mb = 0;
  int status = -1;
};

// Runs a shell command as a child; wall time and that child's peak RSS (wait4).
RunStats run(const std::string& command) {
  RunStats s;
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  struct rusage usage {};
  ::wait4(pid, &status, 0, &usage);
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  s.peak_rss_mb = usage.ru_maxrss / 1024.0;  // of the largest descendant waited for
  s.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return s;
}

// The run with the median time (the lower middle one for an even count).
RunStats median(std::vector<RunStats> runs) {
  std::sort(runs.begin(), runs.end(),
            [](const RunStats& a, const RunStats& b) { return a.seconds < b.seconds; });
  return runs[(runs.size() - 1) / 2];
}

void report(const char* what, const RunStats& r, std::size_t n) {
  std::printf("%s: %.2f s, %.2f tracks/s, peak RSS %.0f MB (exit %d)\n", what, r.seconds,
              n / r.seconds, r.peak_rss_mb, r.status);
}

// The Python pipeline's command under its fastest setup here: each BLAS found and glibc's
// default or genre's allocator settings, timed on the first 20 clips.
std::string fastest_python_setup(const std::string& exported,
                                 const std::vector<genre::InputFile>& inputs) {
  namespace fs = std::filesystem;
  const std::string probe = fs::temp_directory_path() / "genre_bench_probe.txt";
  {
    std::ofstream out(probe);
    for (std::size_t i = 0; i < std::min<std::size_t>(inputs.size(), 20); ++i)
      out << fs::absolute(inputs[i].path).string() << "\n";
  }
  std::string best;
  double best_seconds = 0;
  for (const auto& [name, env] : genre::bench::python_environments()) {
    const std::string command = "cd " GENRE_BENCH_PYTHON_DIR " && " + env +
                                "/usr/bin/python3 baseline_predict.py " + exported + " ";
    const RunStats r = run(command + probe + " > /dev/null");
    std::printf("python pipeline with %s: %.2f s for the first 20 clips\n", name.c_str(),
                r.seconds);
    if (r.status == 0 && (best.empty() || r.seconds < best_seconds)) {
      best = command;
      best_seconds = r.seconds;
    }
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // keep our lines in order with the children's stderr
  std::string folder = argc > 1 ? argv[1] : genre::bench::shared_dir() + "/gtzan";
  const std::string model =
      argc > 2 ? argv[2] : std::string(GENRE_SOURCE_DIR) + "/models/genre-gtzan.pt";
  const int rounds = std::max(1, argc > 3 ? std::atoi(argv[3]) : 3);
  if (!fs::is_directory(folder) || !fs::exists(model)) {
    std::printf("need a folder of clips (%s) and a model (%s)\n", folder.c_str(), model.c_str());
    return 1;
  }
  std::istringstream none;
  const auto inputs = genre::expand_inputs({folder}, none);
  const std::size_t n = std::min<std::size_t>(inputs.size(), 100);
  const std::string list = fs::temp_directory_path() / "genre_bench_inputs.txt";
  {
    std::ofstream out(list);
    for (std::size_t i = 0; i < n; ++i) out << fs::absolute(inputs[i].path).string() << "\n";
  }
  std::printf("%s\n", genre::bench::cpu_description().c_str());
  std::printf("%zu clips from %s, model %s\n", n, folder.c_str(), model.c_str());

  const std::string predict =
      std::string(GENRE_BINARY) + " predict -q --jsonl -m " + model + " -o /dev/null @" + list;
  // Where the time goes: the front end alone (decode, resample, log-mel to .npy files, all
  // cores), then the model alone on those log-mels. The end-to-end run overlaps the two.
  const std::string npy_dir = fs::temp_directory_path() / "genre_bench_logmels";
  fs::remove_all(npy_dir);
  const RunStats front_end =
      run(std::string(GENRE_BINARY) + " features -q -o " + npy_dir + " @" + list + " > /dev/null");
  const RunStats model_only = run(std::string(GENRE_BINARY) + " predict -q --jsonl -m " + model +
                                  " -o /dev/null " + npy_dir);
  fs::remove_all(npy_dir);
  std::printf("stages alone: front end %.2f s (%.1f ms/track), model %.2f s (%.1f ms/track)\n",
              front_end.seconds, 1000 * front_end.seconds / n, model_only.seconds,
              1000 * model_only.seconds / n);

  const bool have_python = genre::bench::python_has("torchaudio");
  if (!have_python)
    std::printf("Python baseline unavailable (Debian python3-torch, python3-torchaudio)\n");
  const std::string exported = fs::temp_directory_path() / "genre_bench_model.pt";
  if (have_python)
    run(std::string(GENRE_BINARY) + " export " + model + " -o " + exported + " 2>/dev/null");
  std::string python;
  if (have_python) python = fastest_python_setup(exported, inputs);

  std::vector<RunStats> genre_runs, independent_runs, python_runs;
  for (int r = 1; r <= rounds; ++r) {
    std::printf("round %d of %d\n", r, rounds);
    genre_runs.push_back(run(predict));
    report("  genre predict", genre_runs.back(), n);
    // The same arithmetic as the Python pipeline: every crop through the whole model.
    independent_runs.push_back(run(predict + " --independent-crops"));
    report("  genre predict --independent-crops", independent_runs.back(), n);
    if (!have_python) continue;
    python_runs.push_back(run(python + list + " > /dev/null"));
    report("  python pipeline", python_runs.back(), n);
  }
  const RunStats genre_run = median(genre_runs), independent = median(independent_runs);
  std::printf("medians of %d rounds:\n", rounds);
  report("genre predict", genre_run, n);
  report("genre predict --independent-crops", independent, n);
  if (!have_python) return 0;
  const RunStats py = median(python_runs);
  report("python pipeline", py, n);
  genre::bench::print_ratio("tracks/s, end to end", n / genre_run.seconds, n / py.seconds, "/s",
                            true);
  genre::bench::print_ratio("tracks/s, end to end, --independent-crops", n / independent.seconds,
                            n / py.seconds, "/s", true);
  genre::bench::print_ratio("peak RSS (lower is better)", genre_run.peak_rss_mb, py.peak_rss_mb,
                            "MB", false);
  return 0;
}
