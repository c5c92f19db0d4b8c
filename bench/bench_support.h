// Helpers shared by the benchmarks: shared-data lookup, running the Python baselines.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace genre::bench {

// $GENRE_SHARED or ../shared; empty when absent.
std::string shared_dir();
// Runs `command` and parses its last stdout line as JSON; null JSON when it fails.
nlohmann::json run_json(const std::string& command);
// True when Debian's Python has torch (and torchaudio, when asked).
bool python_has(const std::string& module);
// The CPU this runs on (model name, cores, AVX-512 or not): ratios move with it, so benchmarks
// print it first.
std::string cpu_description();
// Prints "name  ours  baseline  ratio" with a header once.
void print_ratio(const std::string& name, double ours, double baseline, const std::string& unit,
                 bool higher_is_better);

}  // namespace genre::bench
