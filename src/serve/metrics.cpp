#include "serve/metrics.h"

#include <cstdio>
#include <sstream>

#include "serve/worker_pool.h"

namespace genre::serve {

constexpr std::array<double, 12> Metrics::kLatencyBuckets;

void Metrics::request_finished(const std::string& route, int status, double seconds) {
  --in_flight_;
  std::lock_guard<std::mutex> lock(mutex_);
  ++requests_[{route, status}];
  Histogram& h = latency_[route];
  ++h.count;
  h.sum += seconds;
  for (std::size_t b = 0; b < kLatencyBuckets.size(); ++b)
    if (seconds <= kLatencyBuckets[b]) {
      ++h.buckets[b];
      break;
    }
}

void Metrics::decode_error(const std::string& kind) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++decode_errors_[kind];
}

namespace {

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

void header(std::ostringstream& out, const char* name, const char* type, const char* help) {
  out << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
}

}  // namespace

std::string Metrics::render(const WorkerPool& pool) const {
  std::ostringstream out;
  std::lock_guard<std::mutex> lock(mutex_);
  header(out, "genre_http_requests_total", "counter", "HTTP requests by route and status.");
  for (const auto& [key, count] : requests_)
    out << "genre_http_requests_total{route=\"" << key.first << "\",status=\"" << key.second
        << "\"} " << count << "\n";
  header(out, "genre_http_request_duration_seconds", "histogram",
         "Time from the request's headers to its response, by route.");
  for (const auto& [route, h] : latency_) {
    std::uint64_t cumulative = 0;
    const std::string prefix = "genre_http_request_duration_seconds";
    for (std::size_t b = 0; b < kLatencyBuckets.size(); ++b) {
      cumulative += h.buckets[b];
      out << prefix << "_bucket{route=\"" << route << "\",le=\"" << number(kLatencyBuckets[b])
          << "\"} " << cumulative << "\n";
    }
    out << prefix << "_bucket{route=\"" << route << "\",le=\"+Inf\"} " << h.count << "\n";
    out << prefix << "_sum{route=\"" << route << "\"} " << number(h.sum) << "\n";
    out << prefix << "_count{route=\"" << route << "\"} " << h.count << "\n";
  }
  header(out, "genre_http_requests_in_flight", "gauge", "Requests being handled now.");
  out << "genre_http_requests_in_flight " << in_flight_.load() << "\n";
  header(out, "genre_queue_depth", "gauge", "Requests waiting for a worker.");
  out << "genre_queue_depth " << pool.queued() << "\n";
  header(out, "genre_queue_capacity", "gauge", "Requests that may wait before 503.");
  out << "genre_queue_capacity " << pool.queue_capacity() << "\n";
  header(out, "genre_workers_busy", "gauge", "Workers decoding or running the model.");
  out << "genre_workers_busy " << pool.busy() << "\n";
  header(out, "genre_workers", "gauge", "Worker threads.");
  out << "genre_workers " << pool.threads() << "\n";
  header(out, "genre_decode_errors_total", "counter",
         "Uploads that could not be decoded, by error kind.");
  for (const auto& [kind, count] : decode_errors_)
    out << "genre_decode_errors_total{kind=\"" << kind << "\"} " << count << "\n";
  return out.str();
}

}  // namespace genre::serve
