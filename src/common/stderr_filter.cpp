#include "common/stderr_filter.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <thread>

namespace genre {

namespace {

// Line starts libmpg123 uses for its messages.
const char* const kChatterPrefixes[] = {"Note: ",      "Warning: ",          "[src/libmpg123/",
                                        "[libmpg123/", "[../src/libmpg123/", "Big trouble"};

// Is `start` (the beginning of a line) still a prefix of some chatter prefix?
bool could_become_chatter(const std::string& start) {
  for (const char* p : kChatterPrefixes)
    if (std::string(p).compare(0, start.size(), start) == 0) return true;
  return false;
}

int g_real_stderr = -1;
int g_pipe_write = -1;
std::thread g_reader;

void write_all(int fd, const char* data, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, data, n);
    if (w <= 0) return;
    data += w;
    n -= static_cast<std::size_t>(w);
  }
}

// Copies the pipe to the real stderr, deciding at each line start whether the line is chatter;
// only the few bytes that could still start a chatter prefix are held back.
void pump(int in, int out) {
  std::string pending;  // start of the current line, held while undecided
  enum { kUndecided, kPass, kDrop } state = kUndecided;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(in, buf, sizeof buf)) > 0) {
    std::string passed;
    for (ssize_t i = 0; i < n; ++i) {
      const char c = buf[i];
      if (state == kUndecided) {
        pending += c;
        if (is_decoder_chatter(pending)) {
          state = kDrop;
        } else if (c == '\n' || c == '\r' || !could_become_chatter(pending)) {
          passed += pending;
          state = kPass;
        }
        if (state != kUndecided) pending.clear();
      } else if (state == kPass) {
        passed += c;
      }
      if (c == '\n') state = kUndecided;
    }
    write_all(out, passed.data(), passed.size());
  }
  write_all(out, pending.data(), pending.size());
}

}  // namespace

bool is_decoder_chatter(const std::string& line) {
  for (const char* p : kChatterPrefixes)
    if (line.compare(0, std::string(p).size(), p) == 0) return true;
  return false;
}

void install_stderr_filter() {
#if defined(__SANITIZE_ADDRESS__)
  return;
#endif
  if (const char* env = std::getenv("GENRE_DECODER_MESSAGES"); env && std::string(env) == "1")
    return;
  if (g_real_stderr >= 0) return;
  int fds[2];
  if (::pipe(fds) != 0) return;
  std::fflush(stderr);
  g_real_stderr = ::dup(STDERR_FILENO);
  if (g_real_stderr < 0 || ::dup2(fds[1], STDERR_FILENO) < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    g_real_stderr = -1;
    return;
  }
  ::close(fds[1]);
  g_pipe_write = STDERR_FILENO;
  const int read_end = fds[0];
  // The reader takes no signals: genre serve waits for SIGTERM/SIGINT with sigwait() after
  // blocking them in its own threads, and a thread started earlier must not take them instead.
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  g_reader = std::thread([read_end] {
    pump(read_end, g_real_stderr);
    ::close(read_end);
  });
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  std::atexit(uninstall_stderr_filter);
}

void uninstall_stderr_filter() {
  if (g_real_stderr < 0) return;
  std::cerr.flush();
  std::fflush(stderr);
  // Pointing fd 2 back at the terminal closes the pipe's last write end: the reader drains it.
  ::dup2(g_real_stderr, STDERR_FILENO);
  if (g_reader.joinable()) g_reader.join();
  ::close(g_real_stderr);
  g_real_stderr = -1;
}

}  // namespace genre

namespace genre {

bool stderr_is_terminal() {
  return ::isatty(g_real_stderr >= 0 ? g_real_stderr : STDERR_FILENO) != 0;
}

}  // namespace genre
