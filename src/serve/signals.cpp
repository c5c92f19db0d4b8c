// Graceful shutdown: SIGINT and SIGTERM are taken by a waiting thread (sigwait), never by a
// handler, so stopping the server runs as ordinary code.
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <thread>

#include "serve/serve.h"

namespace genre::serve {

namespace {

sigset_t shutdown_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

}  // namespace

void block_shutdown_signals() {
  // Default dispositions first: a shell starts background jobs with SIGINT ignored, and an ignored
  // signal is discarded before sigwait could take it. Blocked, the default never runs.
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  const sigset_t set = shutdown_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not end the server
}

int run_until_signal(Server& server) {
  block_shutdown_signals();
  std::atomic<bool> finished{false};
  std::atomic<int> received{0};
  std::thread waiter([&] {
    const sigset_t set = shutdown_signals();
    int sig = 0;
    if (sigwait(&set, &sig) != 0) return;
    if (finished) return;  // the wake-up below, not a real signal
    received = sig;
    server.stop();
  });
  server.run();
  finished = true;
  if (!received) pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  return received;
}

}  // namespace genre::serve
