// End to end: tracks/s of `genre predict` over a folder of 30 s clips on 2 cores, with peak RSS,
// next to a Python pipeline doing the same job (torchaudio features + the same model and weights
// in PyTorch, Debian python3-torch/python3-torchaudio) measured in the same run.
//   bench_predict [FOLDER] [MODEL]   (default: ../shared/gtzan, models/genre-gtzan.pt)
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

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

}  // namespace

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // keep our lines in order with the children's stderr
  std::string folder = argc > 1 ? argv[1] : genre::bench::shared_dir() + "/gtzan";
  const std::string model =
      argc > 2 ? argv[2] : std::string(GENRE_SOURCE_DIR) + "/models/genre-gtzan.pt";
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
    for (std::size_t i = 0; i < n; ++i) out << inputs[i].path << "\n";
  }
  std::printf("%zu clips from %s, model %s\n", n, folder.c_str(), model.c_str());

  const std::string predict =
      std::string(GENRE_BINARY) + " predict -q --jsonl -m " + model + " -o /dev/null @" + list;
  const RunStats genre_run = run(predict);
  std::printf("genre predict: %.2f s, %.2f tracks/s, peak RSS %.0f MB (exit %d)\n",
              genre_run.seconds, n / genre_run.seconds, genre_run.peak_rss_mb, genre_run.status);
  // The same arithmetic as the Python pipeline: every crop through the whole model.
  const RunStats independent = run(predict + " --independent-crops");
  std::printf(
      "genre predict --independent-crops: %.2f s, %.2f tracks/s, peak RSS %.0f MB (exit %d)\n",
      independent.seconds, n / independent.seconds, independent.peak_rss_mb, independent.status);

  // Where the time goes: the front end alone (decode, resample, log-mel to .npy files, all
  // cores), then the model alone on those log-mels. The end-to-end run overlaps the two.
  const std::string npy_dir = fs::temp_directory_path() / "genre_bench_logmels";
  fs::remove_all(npy_dir);
  const RunStats front_end = run(std::string(GENRE_BINARY) + " features -q -o " + npy_dir + " @" +
                                 list + " > /dev/null");
  const RunStats model_only = run(std::string(GENRE_BINARY) + " predict -q --jsonl -m " + model +
                                  " -o /dev/null " + npy_dir);
  fs::remove_all(npy_dir);
  std::printf("stages alone: front end %.2f s (%.1f ms/track), model %.2f s (%.1f ms/track)\n",
              front_end.seconds, 1000 * front_end.seconds / n, model_only.seconds,
              1000 * model_only.seconds / n);

  if (!genre::bench::python_has("torchaudio")) {
    std::printf("Python baseline unavailable (Debian python3-torch, python3-torchaudio)\n");
    return 0;
  }
  const std::string exported = fs::temp_directory_path() / "genre_bench_model.pt";
  run(std::string(GENRE_BINARY) + " export " + model + " -o " + exported + " 2>/dev/null");
  const RunStats py = run("cd " GENRE_BENCH_PYTHON_DIR " && /usr/bin/python3 baseline_predict.py " +
                          exported + " " + list + " > /dev/null");
  std::printf("python pipeline: %.2f s, %.2f tracks/s, peak RSS %.0f MB (exit %d)\n", py.seconds,
              n / py.seconds, py.peak_rss_mb, py.status);
  genre::bench::print_ratio("tracks/s, end to end", n / genre_run.seconds, n / py.seconds, "/s",
                            true);
  genre::bench::print_ratio("tracks/s, end to end, --independent-crops", n / independent.seconds,
                            n / py.seconds, "/s", true);
  genre::bench::print_ratio("peak RSS (lower is better)", genre_run.peak_rss_mb, py.peak_rss_mb,
                            "MB", false);
  return 0;
}
