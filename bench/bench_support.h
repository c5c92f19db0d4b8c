// Helpers shared by the benchmarks: shared-data lookup, running the Python baselines.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace genre::bench {

// $GENRE_SHARED or ../shared; empty when absent.
std::string shared_dir();
// Runs `command` and parses its last stdout line as JSON; null JSON when it fails.
nlohmann::json run_json(const std::string& command);
// True when Debian's Python has torch (and torchaudio, when asked) and GENRE_BENCH_NO_BASELINE
// is unset or 0 (set it to time genre alone while working on it).
bool python_has(const std::string& module);
// The settings a Python baseline may run under, to keep its fastest: (name, shell prefix) for
// each BLAS (Debian's default libblas.so.3, each OpenBLAS under /usr/lib/x86_64-linux-gnu, each
// directory in $GENRE_BENCH_BLAS_DIRS, e.g. an unpacked libopenblas0-pthread .deb), each with
// glibc's default allocator and with the settings genre uses (tune_allocator_for_tensors: large
// blocks kept, no trimming) given through glibc's MALLOC_*_ variables.
std::vector<std::pair<std::string, std::string>> python_environments();
// True when /proc/cpuinfo lists `flag` (e.g. "avx512_bf16") for this CPU.
bool cpu_has(const std::string& flag);
// The CPU this runs on (model name, cores, AVX-512 or not): ratios move with it, so benchmarks
// print it first.
std::string cpu_description();
// Prints "name  ours  baseline  ratio" with a header once.
void print_ratio(const std::string& name, double ours, double baseline, const std::string& unit,
                 bool higher_is_better);

}  // namespace genre::bench
