#include "serve/serve_test_support.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include "support/test_support.h"

namespace genre::test {

std::string serve_test_model() { return std::string(GENRE_SOURCE_DIR) + "/models/genre-gtzan.pt"; }

serve::ServeOptions test_serve_options() {
  serve::ServeOptions o;
  o.model_path = serve_test_model();
  o.device = "cpu";
  o.host = "127.0.0.1";
  o.port = 0;
  o.threads = 2;
  o.queue = 8;
  return o;
}

RunningServer::RunningServer(const serve::ServeOptions& options)
    : server_(std::make_unique<serve::Server>(options)), thread_([this] { server_->run(); }) {}

RunningServer::~RunningServer() { stop(); }

void RunningServer::stop() {
  if (!thread_.joinable()) return;
  server_->stop();
  thread_.join();
}

httplib::Client RunningServer::client() const {
  httplib::Client c("127.0.0.1", port());
  c.set_connection_timeout(10, 0);
  c.set_read_timeout(60, 0);
  c.set_write_timeout(60, 0);
  c.set_keep_alive(false);
  return c;
}

std::string wav_bytes(double seconds, int rate, std::uint32_t seed) {
  const std::size_t n = static_cast<std::size_t>(seconds * rate);
  std::vector<short> pcm(n);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> noise(-1.0f, 1.0f);
  for (std::size_t i = 0; i < n; ++i) {
    const double t = static_cast<double>(i) / rate;
    double v = 0.2 * std::sin(2 * M_PI * 220 * t) + 0.15 * std::sin(2 * M_PI * 277.2 * t) +
               0.15 * std::sin(2 * M_PI * 329.6 * t);
    if (std::fmod(t, 0.5) < 0.06) v += 0.3 * noise(rng);  // a beat
    pcm[i] = static_cast<short>(std::lround(std::max(-1.0, std::min(1.0, v)) * 32000));
  }
  std::string out;
  auto u32 = [&](std::uint32_t v) {
    for (int b = 0; b < 4; ++b) out.push_back(static_cast<char>((v >> (8 * b)) & 0xff));
  };
  auto u16 = [&](std::uint16_t v) {
    out.push_back(static_cast<char>(v & 0xff));
    out.push_back(static_cast<char>(v >> 8));
  };
  const std::uint32_t data_bytes = static_cast<std::uint32_t>(n * 2);
  out += "RIFF";
  u32(36 + data_bytes);
  out += "WAVEfmt ";
  u32(16);
  u16(1);  // PCM
  u16(1);  // mono
  u32(static_cast<std::uint32_t>(rate));
  u32(static_cast<std::uint32_t>(rate * 2));
  u16(2);
  u16(16);
  out += "data";
  u32(data_bytes);
  out.append(reinterpret_cast<const char*>(pcm.data()), data_bytes);
  return out;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

double metric_value(const std::string& metrics, const std::string& sample) {
  std::istringstream in(metrics);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(sample + " ", 0) == 0) return std::stod(line.substr(sample.size() + 1));
  return -1;
}

double wait_for_metric(const httplib::Client& client, const std::string& sample, double value) {
  double seen = -1;
  for (int i = 0; i < 100; ++i) {
    auto r = const_cast<httplib::Client&>(client).Get("/metrics");
    if (r && (seen = metric_value(r->body, sample)) == value) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return seen;
}

RawConnection::RawConnection(int port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) close();
}

RawConnection::~RawConnection() { close(); }

bool RawConnection::send(const std::string& bytes) {
  std::size_t done = 0;
  while (fd_ >= 0 && done < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return fd_ >= 0;
}

std::string RawConnection::receive_all(int timeout_ms) { return receive(timeout_ms, false); }

std::string RawConnection::receive_headers(int timeout_ms) { return receive(timeout_ms, true); }

std::string RawConnection::receive(int timeout_ms, bool headers_only) {
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  char buf[4096];
  while (fd_ >= 0) {
    const int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          deadline - std::chrono::steady_clock::now())
                                          .count());
    if (left <= 0) break;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, left) <= 0) break;
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (headers_only && out.find("\r\n\r\n") != std::string::npos) break;
  }
  return out;
}

bool RawConnection::closed_by_peer_within(int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  char buf[4096];
  while (fd_ >= 0) {
    const int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          deadline - std::chrono::steady_clock::now())
                                          .count());
    if (left <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, left) <= 0) return false;
    if (::recv(fd_, buf, sizeof buf, 0) <= 0) return true;
  }
  return true;
}

void RawConnection::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

}  // namespace genre::test
