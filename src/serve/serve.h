// genre/serve: classify music over HTTP, and a web page to do it from a browser.
//
//   HTTP threads (cpp-httplib): parse, authenticate, admit (or 503), read the upload (bounded)
//     -> worker pool (bounded queue): decode from memory + model, through the library's Predictor
//     -> JSON in the schema of `genre predict --json`, log-mel .npy, model card, metrics
//
// Routes (docs/serve.md): GET / (the page, embedded in the binary), GET /healthz, GET /metrics
// (Prometheus), GET /v1/model, POST /v1/classify, POST /v1/features. With an API key, /v1/*
// needs "Authorization: Bearer KEY". `genre serve` is a thin layer over this stage.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

namespace genre::serve {

struct ServeOptions {
  std::string model_path;  // required
  std::string device = "cpu";
  std::string host = "127.0.0.1";
  int port = 8080;                           // 0: any free port (see Server::port)
  int threads = 0;                           // workers (decode + model); <= 0: all cores
  int queue = 16;                            // requests that may wait for a worker
  std::size_t max_upload_bytes = 50u << 20;  // larger uploads get 413
  std::string api_key;                       // empty: no authentication
  int timeout_seconds = 30;                  // socket read/write timeout (slow clients)
  int keep_alive_seconds = 5;                // idle keep-alive connections close after this
};

class Server {
 public:
  // Loads the model and binds the socket. Throws genre::Error when either fails.
  explicit Server(const ServeOptions& options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  int port() const;  // the bound port

  // Serves until stop(); then stops accepting, finishes the requests in flight and returns.
  void run();
  // Thread-safe (not async-signal-safe: see run_until_signal).
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Blocks SIGINT and SIGTERM in the calling thread and in every thread it starts afterwards (and
// ignores SIGPIPE). Call before constructing the Server.
void block_shutdown_signals();

// Runs `server` until SIGINT or SIGTERM arrives, then stops it gracefully. Returns the signal
// number, or 0 when the server stopped for another reason.
int run_until_signal(Server& server);

}  // namespace genre::serve
