#include "serve/routes.h"

#include <chrono>
#include <filesystem>
#include <optional>

#include "common/error.h"
#include "serve/auth.h"
#include "serve/query.h"
#include "serve/responses.h"
#include "serve/upload.h"
#include "serve/web_page.h"

namespace genre::serve {

using httplib::ContentReader;
using httplib::Request;
using httplib::Response;

const std::vector<std::string>& known_routes() {
  static const std::vector<std::string> routes = {"/",         "/healthz",     "/metrics",
                                                  "/v1/model", "/v1/classify", "/v1/features"};
  return routes;
}

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string too_large_message(std::size_t limit) {
  return "the upload is larger than the limit of " + std::to_string(limit) +
         " bytes (--max-upload-mb)";
}

// 401 unless the request carries the API key (when the server has one).
bool check_key(const RouteContext& ctx, const Request& req, Response& res) {
  if (ctx.options.api_key.empty() ||
      authorized(req.get_header_value("Authorization"), ctx.options.api_key))
    return true;
  res.set_header("WWW-Authenticate", "Bearer realm=\"genre\"");
  send_error(res, 401, "unauthorized",
             "this server needs an API key: send the header 'Authorization: Bearer KEY'");
  return false;
}

struct Received {
  WorkerPool::Admission admission;  // keeps the request's place in the pool
  Upload upload;
};

// The front half of the upload routes: size from Content-Length (413), a place in the pool
// (503 with Retry-After), then the body. Answers itself and returns nothing on failure.
std::optional<Received> receive(RouteContext& ctx, const Request& req, Response& res,
                                const ContentReader& reader) {
  const std::size_t limit = ctx.options.max_upload_bytes;
  const std::string too_large = "the upload is larger than the limit of " + std::to_string(limit) +
                                " bytes (--max-upload-mb)";
  if (declared_length(req) > static_cast<long long>(limit)) {
    discard_body(req, res, reader);
    send_error(res, 413, "too_large", too_large);
    return std::nullopt;
  }
  Received r{ctx.pool.try_admit(), Upload{}};
  if (!r.admission) {
    discard_body(req, res, reader);
    res.set_header("Retry-After", std::to_string(ctx.pool.retry_after_seconds()));
    send_error(res, 503, "busy", "the server is busy: every worker and queue place is taken");
    return std::nullopt;
  }
  r.upload = read_upload(req, res, reader, limit);
  switch (r.upload.status) {
    case Upload::Status::kOk:
      return r;
    case Upload::Status::kTooLarge:
      send_error(res, 413, "too_large", too_large);
      break;
    case Upload::Status::kIncomplete:
      send_error(res, 400, "incomplete_upload",
                 "the upload ended early, timed out or is not well-formed");
      break;
    case Upload::Status::kNoFile:
      send_error(res, 400, "no_file",
                 "no audio in the request: send the file as the body, or as a multipart form "
                 "field 'file'");
      break;
  }
  return std::nullopt;
}

void classify(RouteContext& ctx, const Request& req, Response& res, const ContentReader& reader) {
  const auto start = std::chrono::steady_clock::now();
  if (!check_key(ctx, req, res)) return discard_body(req, res, reader);
  const ClassifyQuery q =
      parse_classify_query(req, static_cast<int>(ctx.classifier.info().classes.size()));
  if (!q.error.empty()) {
    discard_body(req, res, reader);
    return send_error(res, 400, "invalid_argument", q.error);
  }
  std::optional<Received> in = receive(ctx, req, res, reader);
  if (!in) return;
  Classification c;
  Timings t;
  t.queue_seconds = ctx.pool.run(in->admission, [&] {
    c = ctx.classifier.classify(in->upload.bytes, in->upload.name, q.classify);
  });
  t.run_seconds = c.run_seconds;
  t.total_seconds = seconds_since(start);
  if (!c.prediction.ok()) {
    ctx.metrics.decode_error(c.prediction.error_kind);
    return send_error(res, status_for_error_kind(c.prediction.error_kind), c.prediction.error_kind,
                      c.prediction.error);
  }
  send_json(res, 200, classification_document(ctx.classifier, c, q.output, t));
}

void features(RouteContext& ctx, const Request& req, Response& res, const ContentReader& reader) {
  if (!check_key(ctx, req, res)) return discard_body(req, res, reader);
  std::string error;
  const bool whole = parse_bool_param(req, "whole", false, error);
  if (!error.empty()) {
    discard_body(req, res, reader);
    return send_error(res, 400, "invalid_argument", error);
  }
  std::optional<Received> in = receive(ctx, req, res, reader);
  if (!in) return;
  std::string npy;
  try {
    ctx.pool.run(in->admission, [&] {
      npy = ctx.classifier.features_npy(in->upload.bytes, in->upload.name, whole);
    });
  } catch (const Error& e) {
    const std::string kind = error_kind_name(e.kind());
    if (status_for_error_kind(kind) != 422) throw;
    ctx.metrics.decode_error(kind);
    return send_error(res, 422, kind, e.what());
  }
  const std::string stem = std::filesystem::path(in->upload.name).stem().string();
  res.set_header("Content-Disposition", "attachment; filename=\"" + stem + ".npy\"");
  res.set_content(npy, "application/octet-stream");
}

void method_not_allowed(Response& res, const std::string& allow) {
  res.set_header("Allow", allow);
  send_error(res, 405, "method_not_allowed", "use " + allow);
}

// 405 for every method but `allow` on `path`.
void refuse_other_methods(httplib::Server& s, const std::string& path, const std::string& allow) {
  auto plain = [allow](const Request&, Response& res) { method_not_allowed(res, allow); };
  auto with_body = [allow](const Request& req, Response& res, const ContentReader& reader) {
    discard_body(req, res, reader);
    method_not_allowed(res, allow);
  };
  if (allow != "GET") s.Get(path, plain);
  if (allow != "POST") s.Post(path, with_body);
  s.Put(path, with_body);
  s.Patch(path, with_body);
  s.Delete(path, with_body);
  s.Options(path, plain);
}

}  // namespace

int expect_continue_status(const RouteContext& ctx, const Request& req, Response& res) {
  if (req.path.rfind("/v1/", 0) == 0 && !check_key(ctx, req, res)) return 401;
  if (declared_length(req) > static_cast<long long>(ctx.options.max_upload_bytes)) {
    send_error(res, 413, "too_large", too_large_message(ctx.options.max_upload_bytes));
    return 413;
  }
  return 100;
}

void add_routes(httplib::Server& s, RouteContext& ctx) {
  s.Get("/", [](const Request&, Response& res) {
    res.set_header("Cache-Control", "no-cache");
    res.set_content(web_page(), "text/html; charset=utf-8");
  });
  s.Get("/healthz", [&ctx](const Request&, Response& res) {
    send_json(res, 200, {{"status", "ok"}, {"model", ctx.classifier.model_id()}});
  });
  s.Get("/metrics", [&ctx](const Request&, Response& res) {
    res.set_content(ctx.metrics.render(ctx.pool), "text/plain; version=0.0.4; charset=utf-8");
  });
  s.Get("/v1/model", [&ctx](const Request& req, Response& res) {
    if (check_key(ctx, req, res)) send_json(res, 200, model_document(ctx.classifier));
  });
  s.Post("/v1/classify", [&ctx](const Request& req, Response& res, const ContentReader& reader) {
    classify(ctx, req, res, reader);
  });
  s.Post("/v1/features", [&ctx](const Request& req, Response& res, const ContentReader& reader) {
    features(ctx, req, res, reader);
  });
  for (const std::string& path : known_routes())
    refuse_other_methods(s, path,
                         path == "/v1/classify" || path == "/v1/features" ? "POST" : "GET");
}

}  // namespace genre::serve
