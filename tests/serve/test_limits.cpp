// The service under abuse: API keys, upload limits, a full queue, clients that vanish or stall,
// and a run of bad requests; the server must answer each with the right code and keep serving.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "serve/auth.h"
#include "serve/serve_test_support.h"
#include "support/test_support.h"

namespace genre::test {
namespace {

using nlohmann::json;

std::string upload_head(int port, std::size_t length, const std::string& path = "/v1/classify") {
  return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
         "\r\nContent-Type: audio/wav\r\nContent-Length: " + std::to_string(length) + "\r\n\r\n";
}

int status_of(const std::string& response) {
  return response.size() > 12 ? std::stoi(response.substr(9, 3)) : -1;
}

TEST(ServeLimits, ApiKeyGuardsV1ButNotHealthz) {
  TempDir dir;
  std::ofstream(dir.file("key")) << "  s3cret-key-123\n";
  serve::ServeOptions o = test_serve_options();
  o.api_key = serve::read_api_key_file(dir.file("key"));
  RunningServer server(o);
  auto c = server.client();
  EXPECT_EQ(c.Get("/healthz")->status, 200);
  auto missing = c.Get("/v1/model");
  EXPECT_EQ(missing->status, 401);
  EXPECT_NE(missing->get_header_value("WWW-Authenticate").find("Bearer"), std::string::npos);
  EXPECT_EQ(json::parse(missing->body)["error"]["kind"], "unauthorized");
  EXPECT_EQ(c.Get("/v1/model", {{"Authorization", "Bearer s3cret-key-12"}})->status, 401);
  EXPECT_EQ(c.Get("/v1/model", {{"Authorization", "Bearer s3cret-key-1234"}})->status, 401);
  EXPECT_EQ(c.Get("/v1/model", {{"Authorization", "Basic s3cret-key-123"}})->status, 401);
  EXPECT_EQ(c.Get("/v1/model", {{"Authorization", "Bearer s3cret-key-123"}})->status, 200);
  const std::string clip = wav_bytes(3.0);
  auto wrong = c.Post("/v1/classify", {{"Authorization", "Bearer nope"}}, clip, "audio/wav");
  EXPECT_EQ(wrong->status, 401);
  auto right =
      c.Post("/v1/features", {{"Authorization", "Bearer s3cret-key-123"}}, clip, "audio/wav");
  EXPECT_EQ(right->status, 200);
}

TEST(ServeLimits, BodyOfExactlyTheLimitPassesOneByteMoreIs413) {
  const std::string clip = wav_bytes(4.0);
  serve::ServeOptions o = test_serve_options();
  o.max_upload_bytes = clip.size();
  RunningServer server(o);
  auto c = server.client();
  auto exact = c.Post("/v1/classify", clip, "audio/wav");
  ASSERT_TRUE(exact);
  EXPECT_EQ(exact->status, 200) << exact->body;
  auto over = c.Post("/v1/classify", clip + "x", "audio/wav");
  ASSERT_TRUE(over);
  EXPECT_EQ(over->status, 413);
  EXPECT_EQ(json::parse(over->body)["error"]["kind"], "too_large");
  // Without Content-Length (chunked), counted while reading.
  auto chunked = c.Post(
      "/v1/classify",
      [&](std::size_t offset, httplib::DataSink& sink) {
        const std::string body = clip + "xyz";
        if (offset < body.size())
          sink.write(body.data() + offset, std::min<std::size_t>(65536, body.size() - offset));
        else
          sink.done();
        return true;
      },
      "audio/wav");
  ASSERT_TRUE(chunked);
  EXPECT_EQ(chunked->status, 413);
  auto form =
      c.Post("/v1/classify", httplib::MultipartFormDataItems{{"file", clip, "a.wav", "audio/wav"}});
  ASSERT_TRUE(form);
  EXPECT_EQ(form->status, 413);  // the form's framing makes it larger than the limit
  EXPECT_EQ(c.Post("/v1/classify", clip, "audio/wav")->status, 200);
}

TEST(ServeLimits, ExpectContinueRefusesAnOversizedUploadBeforeItIsSent) {
  const std::string clip = wav_bytes(3.0);
  serve::ServeOptions o = test_serve_options();
  o.max_upload_bytes = clip.size();
  RunningServer server(o);
  auto head = [&](std::size_t length) {
    return "POST /v1/classify HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: " +
           std::to_string(length) + "\r\n\r\n";
  };
  RawConnection big(server.port());
  ASSERT_TRUE(big.send(head(clip.size() + 1)));  // headers only: the body is never sent
  const std::string refused = big.receive_headers(3000);
  EXPECT_EQ(status_of(refused), 413) << refused;

  RawConnection fits(server.port());
  ASSERT_TRUE(fits.send(head(clip.size())));
  EXPECT_EQ(status_of(fits.receive_headers(3000)), 100);
  ASSERT_TRUE(fits.send(clip));
  EXPECT_EQ(status_of(fits.receive_headers(30000)), 200);
  EXPECT_EQ(wait_for_metric(server.client(),
                            "genre_http_requests_total{route=\"/v1/classify\",status=\"413\"}", 1),
            1);
}

TEST(ServeLimits, FullQueueIs503WithRetryAfterAndAVanishedUploadFreesItsPlace) {
  serve::ServeOptions o = test_serve_options();
  o.threads = 1;
  o.queue = 0;  // room for exactly one request
  RunningServer server(o);
  const std::string clip = wav_bytes(3.0);
  {
    RawConnection holder(server.port());  // admitted, then stalls mid-upload
    ASSERT_TRUE(holder.send(upload_head(server.port(), clip.size()) + clip.substr(0, 1000)));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    auto busy = server.client().Post("/v1/classify", clip, "audio/wav");
    ASSERT_TRUE(busy);
    EXPECT_EQ(busy->status, 503);
    EXPECT_GE(std::stoi(busy->get_header_value("Retry-After")), 1);
    EXPECT_EQ(json::parse(busy->body)["error"]["kind"], "busy");
    EXPECT_EQ(server.client().Get("/healthz")->status, 200);  // cheap routes still answer
  }                                                           // the client disconnects mid-upload
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto after = server.client().Post("/v1/classify", clip, "audio/wav");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200) << after->body;
  const std::string m = server.client().Get("/metrics")->body;
  EXPECT_EQ(metric_value(m, "genre_http_requests_total{route=\"/v1/classify\",status=\"503\"}"), 1);
  EXPECT_EQ(metric_value(m, "genre_http_requests_total{route=\"/v1/classify\",status=\"400\"}"),
            1);  // the vanished upload
  EXPECT_EQ(wait_for_metric(server.client(), "genre_http_requests_in_flight", 1), 1);
}

TEST(ServeLimits, ClientDisconnectingMidUploadLeavesTheServerServing) {
  RunningServer server;
  const std::string clip = wav_bytes(6.0);
  for (int i = 0; i < 3; ++i) {
    RawConnection c(server.port());
    ASSERT_TRUE(c.send(upload_head(server.port(), clip.size()) + clip.substr(0, clip.size() / 2)));
    c.close();
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto ok = server.client().Post("/v1/classify", clip, "audio/wav");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(wait_for_metric(server.client(), "genre_http_requests_in_flight", 1), 1);
  const std::string m = server.client().Get("/metrics")->body;
  EXPECT_EQ(metric_value(m, "genre_queue_depth"), 0);
  EXPECT_EQ(metric_value(m, "genre_workers_busy"), 0);
}

TEST(ServeLimits, SlowClientsTimeOut) {
  serve::ServeOptions o = test_serve_options();
  o.timeout_seconds = 1;
  o.keep_alive_seconds = 1;
  RunningServer server(o);
  RawConnection headers(server.port());
  ASSERT_TRUE(headers.send("POST /v1/classify HTTP/1.1\r\nHost: x\r\n"));  // and then nothing
  RawConnection body(server.port());
  ASSERT_TRUE(body.send(upload_head(server.port(), 100000) + std::string(10, 'x')));
  const auto start = std::chrono::steady_clock::now();
  // Each stalled request is given up after the 1 s timeout: answered 400 (or closed).
  const std::string stalled_headers = headers.receive_headers(5000);
  const std::string stalled_body = body.receive_headers(5000);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(3500));
  EXPECT_TRUE(stalled_headers.empty() || status_of(stalled_headers) == 400) << stalled_headers;
  EXPECT_EQ(status_of(stalled_body), 400) << stalled_body;
  EXPECT_NE(stalled_body.find("Connection: close"), std::string::npos) << stalled_body;
  // cpp-httplib 0.11 closes once the connection has then been idle for the keep-alive time.
  EXPECT_TRUE(body.closed_by_peer_within(4000));
  EXPECT_EQ(server.client().Post("/v1/classify", wav_bytes(3.0), "audio/wav")->status, 200);
}

TEST(ServeLimits, FiftyBadRequestsThenAGoodOne) {
  serve::ServeOptions o = test_serve_options();
  o.max_upload_bytes = 200000;
  RunningServer server(o);
  auto c = server.client();
  const std::string clip = wav_bytes(3.0);
  const std::vector<std::function<int()>> bad = {
      [&] { return c.Post("/v1/classify", std::string(3000, '\x01'), "audio/wav")->status; },
      [&] { return c.Post("/v1/classify", clip.substr(0, 44), "audio/wav")->status; },
      [&] { return c.Post("/v1/classify", std::string(200001, 'x'), "audio/wav")->status; },
      [&] { return c.Post("/v1/classify?top_k=-3", clip, "audio/wav")->status; },
      [&] { return c.Post("/v1/features", "RIFF....WAVEfmt ", "audio/wav")->status; },
      [&] { return c.Get("/v1/classify")->status; },
      [&] { return c.Get("/nothing/here")->status; },
      [&] { return c.Post("/v1/classify", "", "audio/wav")->status; },
      [&] {
        RawConnection raw(server.port());
        raw.send("GARBAGE / HTTP/9.9\r\n\r\n");
        return status_of(raw.receive_headers(2000));
      },
      [&] {
        RawConnection raw(server.port());
        raw.send(upload_head(server.port(), clip.size()) + clip.substr(0, 100));
        return 499;  // hangs up mid-upload
      },
  };
  for (int i = 0; i < 50; ++i) {
    const int status = bad[i % bad.size()]();
    EXPECT_GE(status, 400) << "bad request " << i;
    EXPECT_LT(status, 500) << "bad request " << i;
  }
  auto good = c.Post("/v1/classify", clip, "audio/wav");
  ASSERT_TRUE(good);
  EXPECT_EQ(good->status, 200) << good->body;
  EXPECT_TRUE(json::parse(good->body)["predictions"][0]["ok"].get<bool>());
}

}  // namespace
}  // namespace genre::test
