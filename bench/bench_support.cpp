#include "bench_support.h"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace genre::bench {

std::string shared_dir() {
  const char* env = std::getenv("GENRE_SHARED");
  const std::string dir = env && *env ? env : std::string(GENRE_SOURCE_DIR) + "/../shared";
  return std::filesystem::is_directory(dir) ? std::filesystem::canonical(dir).string() : "";
}

nlohmann::json run_json(const std::string& command) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return nullptr;
  std::array<char, 4096> buf;
  std::string out;
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  if (::pclose(pipe) != 0) return nullptr;
  // The last line when it is a JSON document (possibly nested), else the text from the last '{'.
  const auto end = out.find_last_not_of("\r\n");
  if (end == std::string::npos) return nullptr;
  const auto line_start = out.rfind('\n', end);
  const std::string last = out.substr(line_start == std::string::npos ? 0 : line_start + 1);
  try {
    return nlohmann::json::parse(last);
  } catch (...) {
  }
  const auto start = out.rfind('{');
  if (start == std::string::npos) return nullptr;
  try {
    return nlohmann::json::parse(out.substr(start));
  } catch (...) {
    return nullptr;
  }
}

std::vector<std::pair<std::string, std::string>> python_environments() {
  std::vector<std::pair<std::string, std::string>> blas = {{"default libblas.so.3", ""}};
  std::vector<std::string> dirs;
  for (const char* dir :
       {"/usr/lib/x86_64-linux-gnu/openblas-pthread", "/usr/lib/x86_64-linux-gnu/openblas-openmp"})
    if (std::filesystem::exists(std::string(dir) + "/libblas.so.3")) dirs.push_back(dir);
  if (const char* extra = std::getenv("GENRE_BENCH_BLAS_DIRS")) {
    std::stringstream list(extra);
    for (std::string dir; std::getline(list, dir, ':');)
      if (!dir.empty()) dirs.push_back(dir);
  }
  // One BLAS thread: the baselines set their own torch thread count.
  for (const auto& dir : dirs)
    blas.emplace_back(dir, "OPENBLAS_NUM_THREADS=1 LD_LIBRARY_PATH=" + dir + " ");
  std::vector<std::pair<std::string, std::string>> envs;
  for (const auto& [name, prefix] : blas) {
    envs.emplace_back(name + ", default allocator", prefix);
    envs.emplace_back(
        name + ", genre's allocator settings",
        prefix + "MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TRIM_THRESHOLD_=1073741824 ");
  }
  return envs;
}

std::string cpu_description() {
  std::ifstream in("/proc/cpuinfo");
  std::string line, model = "unknown CPU";
  bool avx512 = false;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0 && line.find(':') != std::string::npos)
      model = line.substr(line.find(':') + 2);
    if (line.rfind("flags", 0) == 0) avx512 = line.find(" avx512f") != std::string::npos;
  }
  return model + ", " + std::to_string(std::thread::hardware_concurrency()) + " cores" +
         (avx512 ? ", AVX-512" : ", no AVX-512");
}

bool cpu_has(const std::string& flag) {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("flags", 0) == 0)
      return (line + " ").find(" " + flag + " ") != std::string::npos;
  return false;
}

bool python_has(const std::string& module) {
  if (const char* off = std::getenv("GENRE_BENCH_NO_BASELINE"); off && *off && *off != '0')
    return false;
  return std::system(("/usr/bin/python3 -c 'import " + module + "' >/dev/null 2>&1").c_str()) == 0;
}

void print_ratio(const std::string& name, double ours, double baseline, const std::string& unit,
                 bool higher_is_better) {
  static bool header = false;
  if (!header) {
    std::printf("\n%-34s %14s %14s %10s\n", "measure", "genre", "baseline", "ratio");
    header = true;
  }
  const double ratio =
      baseline > 0 && ours > 0 ? (higher_is_better ? ours / baseline : baseline / ours) : 0;
  std::printf("%-34s %11.3f %-3s %10.3f %-3s %9.2fx\n", name.c_str(), ours, unit.c_str(), baseline,
              unit.c_str(), ratio);
}

}  // namespace genre::bench
