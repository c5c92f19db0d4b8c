// genre serve: classify music over HTTP (and a web page), until SIGINT or SIGTERM.
#include <cmath>
#include <iostream>

#include "cli/commands.h"
#include "cli/options.h"
#include "common/error.h"
#include "predict/predictor.h"
#include "serve/auth.h"
#include "serve/serve.h"

namespace genre::cli {

namespace {

struct ServeCliOptions {
  serve::ServeOptions serve;
  std::string api_key_file;
  double max_upload_mb = 50;
};

int run_serve(ServeCliOptions& o) {
  serve::ServeOptions& s = o.serve;
  if (s.model_path.empty()) {
    s.model_path = find_default_model("");
    if (s.model_path.empty())
      throw Error(
          ErrorKind::kNotFound, "genre-gtzan.pt",
          "no model given and the shipped model was not found; use --model or set GENRE_MODEL");
  }
  if (!(o.max_upload_mb > 0) || o.max_upload_mb > 4096)
    throw Error(ErrorKind::kInvalidArgument, "", "--max-upload-mb must be in (0, 4096]");
  s.max_upload_bytes = static_cast<std::size_t>(std::llround(o.max_upload_mb * 1048576.0));
  if (s.queue < 0) throw Error(ErrorKind::kInvalidArgument, "", "--queue must be >= 0");
  if (s.timeout_seconds < 1) throw Error(ErrorKind::kInvalidArgument, "", "--timeout must be >= 1");
  if (!o.api_key_file.empty()) s.api_key = serve::read_api_key_file(o.api_key_file);
  if (!serve::is_loopback_host(s.host) && s.api_key.empty())
    std::cerr << "genre serve: warning: listening on " << s.host
              << " without --api-key-file: anyone who can reach this address can use the service\n";

  serve::block_shutdown_signals();  // before any thread starts
  serve::Server server(s);
  std::cerr << "genre serve: model " << s.model_path << "\n"
            << "genre serve: listening on http://" << s.host << ":" << server.port()
            << "/ (Ctrl-C to stop)" << std::endl;
  const int sig = serve::run_until_signal(server);
  std::cerr << "genre serve: stopped" << (sig ? " on signal " + std::to_string(sig) : "")
            << std::endl;
  return kExitOk;
}

}  // namespace

void add_serve_command(CLI::App& app, std::vector<Command>& commands) {
  auto o = std::make_shared<ServeCliOptions>();
  CLI::App* sub = app.add_subcommand(
      "serve", "Classify music over HTTP: a JSON API and a web page (until Ctrl-C or SIGTERM)");
  sub->add_option("-m,--model", o->serve.model_path,
                  "Model file (default: the shipped GTZAN model)");
  sub->add_option("--host", o->serve.host, "Address to listen on")->default_val("127.0.0.1");
  sub->add_option("--port", o->serve.port, "Port (0: any free port)")->default_val(8080);
  sub->add_option("--threads", o->serve.threads,
                  "Worker threads decoding and running the model (default: all cores)");
  sub->add_option("--queue", o->serve.queue,
                  "Requests that may wait for a worker; beyond that 503 + Retry-After")
      ->default_val(16);
  sub->add_option("--max-upload-mb", o->max_upload_mb, "Largest upload in MiB (larger: 413)")
      ->default_val(50);
  sub->add_option("--api-key-file", o->api_key_file,
                  "File whose first line is the API key that /v1/* requests must send as "
                  "'Authorization: Bearer KEY'");
  sub->add_option("--timeout", o->serve.timeout_seconds,
                  "Seconds a client may stay silent while sending or receiving")
      ->default_val(30);
  add_device_option(sub, o->serve.device);
  sub->footer(
      "Routes: GET / (web page), POST /v1/classify, POST /v1/features, GET /v1/model,\n"
      "GET /healthz, GET /metrics. See docs/serve.md.\n"
      "Example:\n"
      "  genre serve --port 8080 &\n"
      "  curl --data-binary @song.mp3 'http://127.0.0.1:8080/v1/classify?top_k=3'");
  commands.push_back({sub, [o] { return run_serve(*o); }});
}

}  // namespace genre::cli
