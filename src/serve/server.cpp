// The HTTP server: cpp-httplib configured with the service's limits, metrics around every
// request, JSON bodies for errors, and the routes.
#include <httplib.h>
#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "common/error.h"
#include "common/parallel.h"
#include "serve/classifier.h"
#include "serve/metrics.h"
#include "serve/responses.h"
#include "serve/routes.h"
#include "serve/serve.h"
#include "serve/worker_pool.h"

namespace genre::serve {

namespace {

// Each HTTP thread handles one request at a time, from pre-routing to the logger.
thread_local std::chrono::steady_clock::time_point request_start;
thread_local bool request_counted = false;

// Starts timing the request on this thread, once (the 100-continue check may come first).
void begin_request(Metrics& metrics) {
  if (request_counted) return;
  request_start = std::chrono::steady_clock::now();
  request_counted = true;
  metrics.request_started();
}

std::string route_label(const std::string& path) {
  const auto& routes = known_routes();
  return std::find(routes.begin(), routes.end(), path) != routes.end() ? path : "unmatched";
}

}  // namespace

struct Server::Impl {
  explicit Impl(const ServeOptions& o)
      : options(o),
        classifier(o.model_path, o.device),
        pool(o.threads > 0 ? o.threads : hardware_threads(), o.queue),
        context{options, classifier, pool, metrics} {}

  void configure();
  void configure_metrics();
  void configure_errors();
  void bind();

  ServeOptions options;
  Classifier classifier;
  WorkerPool pool;
  Metrics metrics;
  RouteContext context;
  httplib::Server http;
  int port = 0;
  std::atomic<bool> run_entered{false}, run_returned{false}, stop_requested{false};
};

void Server::Impl::configure() {
  // Enough HTTP threads for every admitted request plus a few to answer 503s and cheap routes;
  // the model only ever runs on the pool's workers.
  const int http_threads = pool.threads() + pool.queue_capacity() + 4;
  http.new_task_queue = [http_threads] { return new httplib::ThreadPool(http_threads); };
  http.set_payload_max_length(options.max_upload_bytes);
  http.set_read_timeout(options.timeout_seconds, 0);
  http.set_write_timeout(options.timeout_seconds, 0);
  http.set_keep_alive_timeout(options.keep_alive_seconds);
  configure_metrics();
  configure_errors();
  http.set_expect_100_continue_handler([this](const httplib::Request& req, httplib::Response& res) {
    begin_request(metrics);  // refused here, the request never reaches pre-routing
    return expect_continue_status(context, req, res);
  });
  add_routes(http, context);
}

void Server::Impl::configure_metrics() {
  http.set_pre_routing_handler([this](const httplib::Request&, httplib::Response&) {
    begin_request(metrics);
    return httplib::Server::HandlerResponse::Unhandled;
  });
  http.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    if (!request_counted) return;  // never routed (a malformed request line)
    request_counted = false;
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - request_start).count();
    metrics.request_finished(route_label(req.path), res.status, seconds);
  });
}

void Server::Impl::configure_errors() {
  http.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req,
                                                                 httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    if (res.status == 404)
      send_error(res, 404, "not_found", "no route " + req.path + " (see GET / or docs/serve.md)");
    else if (res.status == 413)
      send_error(res, 413, "too_large", "the request is larger than the upload limit");
    else
      send_error(res, res.status, "bad_request",
                 "the request could not be handled (HTTP " + std::to_string(res.status) + ")");
    return httplib::Server::HandlerResponse::Handled;
  }));
  http.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string message = "internal error";
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          message = e.what();
        } catch (...) {
        }
        send_error(res, 500, "internal", message);
      });
}

void Server::Impl::bind() {
  if (options.port == 0) {
    port = http.bind_to_any_port(options.host);
    if (port <= 0) port = 0;
  } else if (http.bind_to_port(options.host, options.port)) {
    port = options.port;
  }
  if (port == 0)
    throw Error(ErrorKind::kIo, options.host + ":" + std::to_string(options.port),
                "cannot listen (address in use, or not an address of this machine?)");
}

Server::Server(const ServeOptions& options)
    : impl_([&] {
        // Before any thread starts. Each request runs on fresh threads (the Predictor's), which
        // cycle through glibc's arenas (up to 8 per core), and genre keeps freed memory for
        // tensor reuse (tune_allocator_for_tensors), so each arena keeps its peak: ~800 MB under
        // load. Workers + 2 arenas halve that at the same throughput (docs/benchmarks.md).
        mallopt(M_ARENA_MAX,
                std::max(2, options.threads > 0 ? options.threads : hardware_threads()) + 2);
        return std::make_unique<Impl>(options);
      }()) {
  impl_->configure();
  impl_->bind();
}

Server::~Server() = default;

int Server::port() const { return impl_->port; }

void Server::run() {
  impl_->run_entered = true;
  if (!impl_->stop_requested) impl_->http.listen_after_bind();
  impl_->run_returned = true;
}

void Server::stop() {
  // cpp-httplib ignores stop() before listening has begun: wait for that, unless run() is not
  // running (then it will see stop_requested and return at once).
  impl_->stop_requested = true;
  while (impl_->run_entered && !impl_->run_returned) {
    if (impl_->http.is_running()) return impl_->http.stop();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

}  // namespace genre::serve
