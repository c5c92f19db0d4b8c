// The serve stage's parts on their own: key comparison, the bounded worker pool, metrics text.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <future>
#include <thread>

#include "common/error.h"
#include "serve/auth.h"
#include "serve/metrics.h"
#include "serve/worker_pool.h"
#include "support/test_support.h"

namespace genre::test {
namespace {

using namespace genre::serve;

TEST(ServeAuth, ConstantTimeEqualsComparesWholeStrings) {
  EXPECT_TRUE(constant_time_equals("abc", "abc"));
  EXPECT_FALSE(constant_time_equals("abd", "abc"));
  EXPECT_FALSE(constant_time_equals("ab", "abc"));
  EXPECT_FALSE(constant_time_equals("abcabc", "abc"));  // cyclic reading must not fool it
  EXPECT_FALSE(constant_time_equals("", "abc"));
  EXPECT_TRUE(constant_time_equals("", ""));
}

TEST(ServeAuth, BearerHeader) {
  EXPECT_TRUE(authorized("Bearer k3y", "k3y"));
  EXPECT_TRUE(authorized("bearer k3y ", "k3y"));
  EXPECT_FALSE(authorized("Bearer k3", "k3y"));
  EXPECT_FALSE(authorized("Token k3y", "k3y"));
  EXPECT_FALSE(authorized("", "k3y"));
  EXPECT_FALSE(authorized("k3y", "k3y"));
}

TEST(ServeAuth, KeyFileAndLoopback) {
  TempDir dir;
  std::ofstream(dir.file("key")) << "\t key-1 \nsecond line\n";
  EXPECT_EQ(read_api_key_file(dir.file("key")), "key-1");
  std::ofstream(dir.file("empty")) << "  \n";
  EXPECT_THROW(read_api_key_file(dir.file("empty")), Error);
  EXPECT_THROW(read_api_key_file(dir.file("missing")), Error);
  EXPECT_TRUE(is_loopback_host("127.0.0.1"));
  EXPECT_TRUE(is_loopback_host("localhost"));
  EXPECT_TRUE(is_loopback_host("::1"));
  EXPECT_FALSE(is_loopback_host("0.0.0.0"));
  EXPECT_FALSE(is_loopback_host("192.168.1.5"));
}

TEST(ServeWorkerPool, AdmitsThreadsPlusQueueThenRefuses) {
  WorkerPool pool(2, 3);
  std::vector<WorkerPool::Admission> held;
  for (int i = 0; i < 5; ++i) {
    held.push_back(pool.try_admit());
    EXPECT_TRUE(held.back()) << i;
  }
  EXPECT_FALSE(pool.try_admit());
  held.pop_back();  // a request that gave up frees its place
  EXPECT_TRUE(pool.try_admit());
}

TEST(ServeWorkerPool, RunsJobsOnWorkersAndReportsQueueing) {
  WorkerPool pool(1, 4);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> done{0};
  const std::thread::id caller = std::this_thread::get_id();
  auto a1 = pool.try_admit();
  auto a2 = pool.try_admit();
  std::thread first([&] {
    pool.run(a1, [&] {
      EXPECT_NE(std::this_thread::get_id(), caller);
      released.wait();
      ++done;
    });
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  double waited = -1;
  std::thread second([&] { waited = pool.run(a2, [&] { ++done; }); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(pool.busy(), 1);
  EXPECT_EQ(pool.queued(), 1);
  EXPECT_GE(pool.retry_after_seconds(), 1);
  release.set_value();
  first.join();
  second.join();
  EXPECT_EQ(done, 2);
  EXPECT_GE(waited, 0.05);
  EXPECT_EQ(pool.queued(), 0);
}

TEST(ServeWorkerPool, JobExceptionsReachTheCaller) {
  WorkerPool pool(1, 0);
  auto a = pool.try_admit();
  EXPECT_THROW(pool.run(a, [] { throw std::runtime_error("boom"); }), std::runtime_error);
  auto b = pool.try_admit();
  EXPECT_FALSE(b) << "a is still held";
}

TEST(ServeMetrics, RendersCountersHistogramAndGauges) {
  Metrics m;
  WorkerPool pool(3, 5);
  m.request_started();
  m.request_finished("/v1/classify", 200, 0.3);
  m.request_started();
  m.request_finished("/v1/classify", 422, 0.002);
  m.decode_error("not_audio");
  const std::string text = m.render(pool);
  EXPECT_NE(text.find("genre_http_requests_total{route=\"/v1/classify\",status=\"200\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("genre_http_request_duration_seconds_bucket{route=\"/v1/classify\","
                      "le=\"0.005\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("genre_http_request_duration_seconds_bucket{route=\"/v1/classify\","
                      "le=\"0.5\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("genre_http_request_duration_seconds_count{route=\"/v1/classify\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("genre_http_requests_in_flight 0\n"), std::string::npos);
  EXPECT_NE(text.find("genre_workers 3\n"), std::string::npos);
  EXPECT_NE(text.find("genre_queue_capacity 5\n"), std::string::npos);
  EXPECT_NE(text.find("genre_decode_errors_total{kind=\"not_audio\"} 1\n"), std::string::npos);
}

}  // namespace
}  // namespace genre::test
