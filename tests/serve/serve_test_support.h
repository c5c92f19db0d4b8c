// Helpers for the serve tests: an in-process server on a free loopback port, test clips as bytes,
// and a raw socket for clients that misbehave on purpose.
#pragma once

#include <httplib.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "serve/serve.h"

namespace genre::test {

// The shipped model of the source tree.
std::string serve_test_model();

// ServeOptions for tests: the shipped model, 127.0.0.1, any free port, 2 workers.
serve::ServeOptions test_serve_options();

// A Server running on its own thread; stopped (gracefully) and joined on destruction.
class RunningServer {
 public:
  explicit RunningServer(const serve::ServeOptions& options = test_serve_options());
  ~RunningServer();
  int port() const { return server_->port(); }
  httplib::Client client() const;  // 60 s timeouts, keep-alive off
  void stop();

 private:
  std::unique_ptr<serve::Server> server_;
  std::thread thread_;
};

// A mono 16-bit WAV of `seconds` (a chord with noise bursts) as bytes.
std::string wav_bytes(double seconds, int rate = 22050, std::uint32_t seed = 7);

// Bytes of a file.
std::string read_bytes(const std::string& path);

// The value of a Prometheus sample line "name{labels} value" in `metrics` (-1 when absent).
double metric_value(const std::string& metrics, const std::string& sample);
// Polls GET /metrics (up to 2 s) until `sample` has `value`; returns the last value seen. A
// request's metrics are recorded just after its response is written, so the client can be first.
double wait_for_metric(const httplib::Client& client, const std::string& sample, double value);

// A TCP connection to 127.0.0.1:port for sending arbitrary bytes.
class RawConnection {
 public:
  explicit RawConnection(int port);
  ~RawConnection();
  bool send(const std::string& bytes);
  // Reads until the peer closes or `timeout_ms` passes; returns what arrived.
  std::string receive_all(int timeout_ms);
  // Reads until a response's headers have arrived (or the peer closes, or the timeout).
  std::string receive_headers(int timeout_ms);
  // True when the peer closes the connection (read returns 0 or an error) within timeout_ms.
  bool closed_by_peer_within(int timeout_ms);
  void close();

 private:
  std::string receive(int timeout_ms, bool headers_only);
  int fd_ = -1;
};

}  // namespace genre::test
