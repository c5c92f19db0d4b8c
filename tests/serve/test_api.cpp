// The HTTP API end to end: every route, its answers and its error codes, through cpp-httplib's
// client against an in-process server on a free loopback port.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "features/features.h"
#include "model/model_file.h"
#include "serve/serve_test_support.h"
#include "support/test_support.h"

namespace genre::test {
namespace {

using nlohmann::json;

class ServeApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new RunningServer();
    clip_ = new std::string(wav_bytes(8.0));
  }
  static void TearDownTestSuite() {
    delete server_;
    delete clip_;
  }
  static httplib::Client client() { return server_->client(); }
  static const std::string& clip() { return *clip_; }
  static std::string metrics() { return client().Get("/metrics")->body; }

  static RunningServer* server_;
  static std::string* clip_;
};
RunningServer* ServeApi::server_ = nullptr;
std::string* ServeApi::clip_ = nullptr;

TEST_F(ServeApi, HealthzAnswersOk) {
  auto r = client().Get("/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(json::parse(r->body)["status"], "ok");
  EXPECT_EQ(json::parse(r->body)["model"], "genre-gtzan");
}

TEST_F(ServeApi, RootServesTheEmbeddedPage) {
  auto r = client().Get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->get_header_value("Content-Type").find("text/html"), std::string::npos);
  EXPECT_NE(r->body.find("<title>genre"), std::string::npos);
  EXPECT_NE(r->body.find("/v1/classify"), std::string::npos);
  EXPECT_EQ(r->body.find("http://"), std::string::npos) << "the page must not load anything remote";
  EXPECT_EQ(r->body.find("https://"), std::string::npos);
}

TEST_F(ServeApi, ModelDescribesClassesFeaturesAndArchitecture) {
  auto r = client().Get("/v1/model");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  const json m = json::parse(r->body);
  const ModelInfo info = load_model(serve_test_model()).info;
  EXPECT_EQ(m["classes"].get<std::vector<std::string>>(), info.classes);
  EXPECT_EQ(m["features"]["sample_rate"], info.features.sample_rate);
  EXPECT_EQ(m["features"]["n_mels"], info.features.n_mels);
  EXPECT_TRUE(m.contains("arch"));
  EXPECT_EQ(m["id"], "genre-gtzan");
  EXPECT_EQ(m["file"], "genre-gtzan.pt");
  EXPECT_EQ(m["mode"], "single_label");
}

TEST_F(ServeApi, ClassifyRawBodyAnswersThePredictSchema) {
  auto r = client().Post("/v1/classify?top_k=2", clip(), "audio/wav");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const json doc = json::parse(r->body);
  EXPECT_EQ(doc["schema"], "genre.predictions");
  EXPECT_EQ(doc["version"], 2);  // the schema of genre predict --json (docs/predict-output.md)
  EXPECT_EQ(doc["model"]["id"], "genre-gtzan");
  ASSERT_EQ(doc["predictions"].size(), 1u);
  const json& p = doc["predictions"][0];
  EXPECT_EQ(p["version"], 2);
  EXPECT_TRUE(p["ok"].get<bool>());
  EXPECT_EQ(p["input"], "upload");
  EXPECT_EQ(p["top"].size(), 2u);
  EXPECT_EQ(p["label"], p["top"][0]["label"]);
  double sum = 0;
  for (const auto& [label, prob] : p["probabilities"].items()) sum += prob.get<double>();
  EXPECT_NEAR(sum, 1.0, 1e-4);
  EXPECT_NEAR(p["duration_seconds"].get<double>(), 8.0, 0.01);
  EXPECT_GT(p["seconds"].get<double>(), 7.5);
  EXPECT_GT(doc["timings"]["run_seconds"].get<double>(), 0.0);
  EXPECT_GE(doc["timings"]["total_seconds"].get<double>(),
            doc["timings"]["run_seconds"].get<double>());
}

TEST_F(ServeApi, ClassifyAgreesWithGenrePredictOnTheSameFile) {
  TempDir dir;
  write_bytes(dir.file("clip.wav"), clip());
  std::string out;
  ASSERT_EQ(run_command(genre_binary() + " predict --json -q --threads 1 -m " + serve_test_model() +
                            " " + dir.file("clip.wav"),
                        &out),
            0);
  const json cli = json::parse(out)["predictions"][0];
  auto r = client().Post("/v1/classify", clip(), "audio/wav");
  ASSERT_TRUE(r);
  const json served = json::parse(r->body)["predictions"][0];
  EXPECT_EQ(served["label"], cli["label"]);
  for (const auto& [label, prob] : cli["probabilities"].items())
    EXPECT_NEAR(served["probabilities"][label].get<double>(), prob.get<double>(), 1e-5) << label;
}

TEST_F(ServeApi, ClassifyMultipartUsesTheFileName) {
  httplib::MultipartFormDataItems items = {{"file", clip(), "my song.wav", "audio/wav"}};
  auto r = client().Post("/v1/classify", items);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(json::parse(r->body)["predictions"][0]["input"], "my song.wav");
}

TEST_F(ServeApi, ClassifyWithSegmentsGivesATimeline) {
  // The shipped model reads 29 s windows: a 33 s upload gives windows every 1.5 s over it.
  auto r = client().Post("/v1/classify?segments=1&hop=1.5", wav_bytes(33.0), "audio/wav");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const json seg = json::parse(r->body)["predictions"][0]["segments"];
  EXPECT_NEAR(seg["hop_seconds"].get<double>(), 1.5, 0.05);
  ASSERT_GE(seg["windows"].size(), 3u);
  EXPECT_EQ(seg["windows"][0]["probabilities"].size(), seg["classes"].size());
}

TEST_F(ServeApi, FeaturesReturnsTheLogMelAsNpy) {
  TempDir dir;
  write_bytes(dir.file("clip.wav"), clip());
  const ModelInfo info = load_model(serve_test_model()).info;
  const Spectrogram expected = extract_logmel(dir.file("clip.wav"), info.features, true);

  auto r = client().Post("/v1/features?whole=1", clip(), "audio/wav");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/octet-stream");
  ASSERT_GT(r->body.size(), 128u);
  EXPECT_EQ(r->body.substr(1, 5), "NUMPY");
  const std::string shape =
      "(" + std::to_string(expected.n_mels) + ", " + std::to_string(expected.n_frames) + ")";
  EXPECT_NE(r->body.find(shape), std::string::npos) << shape;
  EXPECT_EQ(r->body.size() % 4, 0u);
  const std::size_t data_bytes = expected.data.size() * sizeof(float);
  ASSERT_GE(r->body.size(), data_bytes);
  EXPECT_EQ(0, std::memcmp(r->body.data() + r->body.size() - data_bytes, expected.data.data(),
                           data_bytes));

  auto excerpt = client().Post("/v1/features", clip(), "audio/wav");
  ASSERT_TRUE(excerpt);
  EXPECT_EQ(excerpt->status, 200);
  EXPECT_NE(excerpt->body.find("(" + std::to_string(info.features.n_mels) + ", " +
                               std::to_string(info.features.excerpt_frames()) + ")"),
            std::string::npos);
}

TEST_F(ServeApi, NothingIsLeftOnDisk) {
  // This process's private directories (other test processes may be mid-request).
  const std::string mine = "genre-serve-" + std::to_string(::getpid()) + "-";
  auto count = [&] {
    int n = 0;
    for (const char* dir : {"/dev/shm", "/tmp"}) {
      std::error_code ec;
      for (auto it = std::filesystem::directory_iterator(dir, ec);
           !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
        if (it->path().filename().string().rfind(mine, 0) == 0) ++n;
    }
    return n;
  };
  const int before = count();
  ASSERT_EQ(client().Post("/v1/features", clip(), "audio/wav")->status, 200);
  ASSERT_EQ(client().Post("/v1/features", "not audio", "audio/wav")->status, 422);
  ASSERT_EQ(client().Post("/v1/classify", clip(), "audio/wav")->status, 200);
  EXPECT_EQ(count(), before);
}

TEST_F(ServeApi, NotAudioIs422WithAReadableMessage) {
  const double errors_before =
      metric_value(metrics(), "genre_decode_errors_total{kind=\"not_audio\"}");
  auto r = client().Post("/v1/classify", std::string(5000, 'x'), "audio/wav");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 422);
  const json e = json::parse(r->body)["error"];
  EXPECT_EQ(e["kind"], "not_audio");
  EXPECT_NE(e["message"].get<std::string>().find("upload: not a recognised audio file"),
            std::string::npos)
      << e["message"];
  EXPECT_EQ(e["message"].get<std::string>().find("/proc/"), std::string::npos);
  EXPECT_EQ(metric_value(metrics(), "genre_decode_errors_total{kind=\"not_audio\"}"),
            std::max(0.0, errors_before) + 1);
}

TEST_F(ServeApi, CorruptAudioIs422) {
  std::string truncated = clip().substr(0, 30);  // a RIFF header cut short
  auto r = client().Post("/v1/classify", truncated, "audio/wav");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 422) << r->body;
  auto f = client().Post("/v1/features", truncated, "audio/wav");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->status, 422) << f->body;
  EXPECT_EQ(f->get_header_value("Content-Type"), "application/json");
}

TEST_F(ServeApi, EmptyBodyAndFormWithoutFileAre400) {
  auto r = client().Post("/v1/classify", "", "audio/wav");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(json::parse(r->body)["error"]["kind"], "no_file");
  httplib::MultipartFormDataItems items = {{"comment", "hello", "", ""}};
  auto m = client().Post("/v1/classify", items);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 400);
}

TEST_F(ServeApi, BadQueryOptionsAre400) {
  const std::string too_many =
      "top_k=" + std::to_string(load_model(serve_test_model()).info.classes.size() + 1);
  for (const std::string q :
       {"top_k=0", "top_k=abc", too_many.c_str(), "top_k=1.5", "segments=maybe", "threshold=1.5",
        "threshold=x", "hop=2", "segments=1&hop=-1", "segments=1&hop=x"}) {
    auto r = client().Post("/v1/classify?" + q, clip(), "audio/wav");
    ASSERT_TRUE(r) << q;
    EXPECT_EQ(r->status, 400) << q;
    EXPECT_EQ(json::parse(r->body)["error"]["kind"], "invalid_argument") << q;
  }
  auto f = client().Post("/v1/features?whole=perhaps", clip(), "audio/wav");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->status, 400);
}

TEST_F(ServeApi, UnknownRouteIs404Json) {
  auto r = client().Get("/v2/nothing");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(json::parse(r->body)["error"]["kind"], "not_found");
  auto p = client().Post("/v1/classify/extra", clip(), "audio/wav");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->status, 404);
}

TEST_F(ServeApi, WrongMethodIs405WithAllow) {
  auto get = client().Get("/v1/classify");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 405);
  EXPECT_EQ(get->get_header_value("Allow"), "POST");
  auto post = client().Post("/healthz", clip(), "audio/wav");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->get_header_value("Allow"), "GET");
  auto del = client().Delete("/v1/model");
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 405);
  auto put = client().Put("/v1/features", "x", "text/plain");
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status, 405);
  EXPECT_EQ(json::parse(put->body)["error"]["kind"], "method_not_allowed");
}

TEST_F(ServeApi, MetricsArePrometheusText) {
  ASSERT_EQ(client().Get("/healthz")->status, 200);
  ASSERT_EQ(client().Get("/nope")->status, 404);
  // A request is counted just after its answer is written: once only the polling request is in
  // flight, the two above are counted.
  EXPECT_EQ(wait_for_metric(client(), "genre_http_requests_in_flight", 1), 1);
  // The previous request leaves the in-flight count just after its response is sent: under load
  // a /metrics request can still see it, so look again until only this request is counted.
  auto r = client().Get("/metrics");
  for (int i = 0; i < 100 && r && metric_value(r->body, "genre_http_requests_in_flight") != 1;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    r = client().Get("/metrics");
  }
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->get_header_value("Content-Type").find("text/plain; version=0.0.4"),
            std::string::npos);
  const std::string& m = r->body;
  EXPECT_GE(metric_value(m, "genre_http_requests_total{route=\"/healthz\",status=\"200\"}"), 1);
  EXPECT_GE(metric_value(m, "genre_http_requests_total{route=\"unmatched\",status=\"404\"}"), 1);
  EXPECT_GE(metric_value(m, "genre_http_request_duration_seconds_count{route=\"/healthz\"}"), 1);
  EXPECT_GE(
      metric_value(m, "genre_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"+Inf\"}"),
      1);
  EXPECT_EQ(metric_value(m, "genre_http_requests_in_flight"), 1);  // this request
  EXPECT_EQ(metric_value(m, "genre_queue_depth"), 0);
  EXPECT_EQ(metric_value(m, "genre_workers"), 2);
  EXPECT_NE(m.find("# TYPE genre_http_request_duration_seconds histogram"), std::string::npos);
  EXPECT_NE(m.find("# TYPE genre_decode_errors_total counter"), std::string::npos);
}

}  // namespace
}  // namespace genre::test
