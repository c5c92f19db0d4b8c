// genre/common: a progress bar with rate and ETA for long jobs.
//
// Draws on stderr only when stderr is a terminal (or when forced), so piped output and logs stay
// clean. Thread-safe: workers call tick() concurrently.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>

namespace genre {

class Progress {
 public:
  // enabled: -1 auto (terminal only), 0 never, 1 always.
  Progress(std::string label, std::size_t total, int enabled = -1);
  ~Progress();

  void tick(std::size_t n = 1);
  // Prints a line above the bar (e.g. an error) without tearing it.
  void message(const std::string& line);
  void finish();

 private:
  void draw_locked(bool final_draw);

  std::string label_;
  std::size_t total_;
  std::size_t done_ = 0;
  bool enabled_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  std::mutex mutex_;
};

}  // namespace genre
