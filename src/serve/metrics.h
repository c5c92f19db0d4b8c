// genre/serve: the service's counters, rendered in the Prometheus text exposition format.
#pragma once

#include <array>
#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace genre::serve {

class WorkerPool;

class Metrics {
 public:
  // Upper bounds (seconds) of the request latency histogram's buckets (+Inf is implied).
  static constexpr std::array<double, 12> kLatencyBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                             0.5,   1,    2.5,   5,    10,  30};

  void request_started() { ++in_flight_; }
  // `route` is a known route pattern, or "unmatched".
  void request_finished(const std::string& route, int status, double seconds);
  void decode_error(const std::string& kind);

  // The whole /metrics page; the worker pool supplies the queue gauges.
  std::string render(const WorkerPool& pool) const;

 private:
  struct Histogram {
    std::array<std::uint64_t, kLatencyBuckets.size()> buckets{};  // non-cumulative counts
    std::uint64_t count = 0;
    double sum = 0;
  };
  std::atomic<int> in_flight_{0};
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, std::uint64_t> requests_;  // (route, status) -> count
  std::map<std::string, Histogram> latency_;                       // route -> histogram
  std::map<std::string, std::uint64_t> decode_errors_;             // kind -> count
};

}  // namespace genre::serve
