// `genre serve` as a process: it prints where it listens, warns about exposed addresses, and on
// SIGINT/SIGTERM stops accepting, finishes the request in flight and exits 0.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <regex>
#include <thread>

#include "serve/serve_test_support.h"
#include "support/test_support.h"

namespace genre::test {
namespace {

// `genre serve ARGS --port 0` as a child process whose stderr we read.
class ServeProcess {
 public:
  explicit ServeProcess(std::vector<std::string> args) {
    int fds[2];
    if (::pipe(fds) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], STDERR_FILENO);
      ::close(fds[0]);
      std::vector<std::string> all = {genre_binary(),     "serve",     "--port", "0", "--model",
                                      serve_test_model(), "--threads", "1"};
      all.insert(all.end(), args.begin(), args.end());
      std::vector<char*> argv;
      for (auto& a : all) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    err_fd_ = fds[0];
  }
  ~ServeProcess() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (err_fd_ >= 0) ::close(err_fd_);
  }

  // Reads stderr until "listening on http://host:PORT/" (or 30 s); returns the port or 0.
  int wait_for_port() {
    const std::regex listening("listening on http://[^:]+:([0-9]+)/");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      std::smatch m;
      if (std::regex_search(stderr_, m, listening)) return std::stoi(m[1]);
      if (read_some(200) < 0) break;  // stderr closed: the process ended
    }
    return 0;
  }

  // Waits up to `seconds` for the exit; returns the exit status, or -1 (timeout or a signal).
  int wait_exit(int seconds) {
    for (int i = 0; i < seconds * 20; ++i) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        while (read_some(10) > 0) {
        }
        if (WIFSIGNALED(status))
          stderr_ += "[killed by signal " + std::to_string(WTERMSIG(status)) + "]";
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      if (read_some(50) < 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return -1;
  }

  pid_t pid() const { return pid_; }
  const std::string& stderr_text() const { return stderr_; }

 private:
  // 1: read something; 0: nothing within the timeout; -1: end of file.
  int read_some(int timeout_ms) {
    pollfd p{err_fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return 0;
    char buf[1024];
    const ssize_t n = ::read(err_fd_, buf, sizeof buf);
    if (n <= 0) return -1;
    stderr_.append(buf, static_cast<std::size_t>(n));
    return 1;
  }

  pid_t pid_ = -1;
  int err_fd_ = -1;
  bool exited_ = false;
  std::string stderr_;
};

TEST(ServeShutdown, SigtermFinishesTheRequestInFlightThenExitsZero) {
  ServeProcess serve({});
  const int port = serve.wait_for_port();
  ASSERT_GT(port, 0) << serve.stderr_text();
  const std::string clip = wav_bytes(4.0);
  RawConnection upload(port);
  const std::string head = "POST /v1/classify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " +
                           std::to_string(clip.size()) + "\r\n\r\n";
  ASSERT_TRUE(upload.send(head + clip.substr(0, clip.size() / 2)));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_EQ(::kill(serve.pid(), SIGTERM), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));

  httplib::Client late("127.0.0.1", port);
  late.set_connection_timeout(2, 0);
  EXPECT_FALSE(late.Get("/healthz")) << "a stopping server must not accept new connections";

  ASSERT_TRUE(upload.send(clip.substr(clip.size() / 2)));
  const std::string response = upload.receive_all(20000);
  EXPECT_EQ(response.substr(0, 12), "HTTP/1.1 200") << response.substr(0, 300);
  EXPECT_NE(response.find("\"genre.predictions\""), std::string::npos);
  EXPECT_EQ(serve.wait_exit(20), 0) << serve.stderr_text();
  EXPECT_NE(serve.stderr_text().find("stopped on signal 15"), std::string::npos);
}

TEST(ServeShutdown, SigintStopsAnIdleServer) {
  ServeProcess serve({});
  const int port = serve.wait_for_port();
  ASSERT_GT(port, 0) << serve.stderr_text();
  httplib::Client c("127.0.0.1", port);
  auto r = c.Get("/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  ASSERT_EQ(::kill(serve.pid(), SIGINT), 0);
  EXPECT_EQ(serve.wait_exit(20), 0) << serve.stderr_text();
}

TEST(ServeShutdown, NonLoopbackHostWithoutKeyWarns) {
  ServeProcess serve({"--host", "0.0.0.0"});
  ASSERT_GT(serve.wait_for_port(), 0) << serve.stderr_text();
  EXPECT_NE(serve.stderr_text().find("warning"), std::string::npos) << serve.stderr_text();
  ::kill(serve.pid(), SIGTERM);
  EXPECT_EQ(serve.wait_exit(20), 0);
}

TEST(ServeShutdown, BadOptionsAreUsageErrors) {
  std::string out, err;
  EXPECT_EQ(run_command(genre_binary() + " serve --port 0 --max-upload-mb 0", &out, &err), 2)
      << err;
  EXPECT_EQ(
      run_command(genre_binary() + " serve --port 0 --api-key-file /nonexistent/key", &out, &err),
      1)
      << err;
  EXPECT_NE(err.find("API key"), std::string::npos) << err;
}

}  // namespace
}  // namespace genre::test
