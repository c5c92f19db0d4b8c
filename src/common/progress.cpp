#include "common/progress.h"

#include <unistd.h>

#include <cstdio>

#include "common/stderr_filter.h"

namespace genre {

Progress::Progress(std::string label, std::size_t total, int enabled)
    : label_(std::move(label)),
      total_(total),
      enabled_(enabled < 0 ? stderr_is_terminal() : enabled != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

Progress::~Progress() { finish(); }

static std::string format_duration(double seconds) {
  if (seconds < 0 || seconds > 359999) return "--:--";
  const int s = static_cast<int>(seconds + 0.5);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%02d:%02d", s / 60, s % 60);
  return buf;
}

void Progress::draw_locked(bool final_draw) {
  const auto now = std::chrono::steady_clock::now();
  if (!final_draw && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double rate = elapsed > 0 ? done_ / elapsed : 0.0;
  const double eta = rate > 0 ? (total_ - done_) / rate : -1.0;
  const int width = 30;
  const int filled = total_ ? static_cast<int>(width * done_ / total_) : width;
  std::string bar(filled, '=');
  if (filled < width) bar += '>' + std::string(width - filled - 1, ' ');
  std::fprintf(stderr, "\r%s [%s] %zu/%zu %.1f/s %s %s\x1b[K", label_.c_str(), bar.c_str(), done_,
               total_, rate, final_draw ? "took" : "ETA",
               format_duration(final_draw ? elapsed : eta).c_str());
  std::fflush(stderr);
}

void Progress::tick(std::size_t n) {
  std::lock_guard<std::mutex> lock(mutex_);
  done_ += n;
  if (enabled_) draw_locked(false);
}

void Progress::message(const std::string& line) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (enabled_) std::fprintf(stderr, "\r\x1b[K");
  std::fprintf(stderr, "%s\n", line.c_str());
  if (enabled_) draw_locked(true);
}

void Progress::finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (finished_) return;
  finished_ = true;
  if (enabled_) {
    draw_locked(true);
    std::fprintf(stderr, "\n");
  }
}

}  // namespace genre
