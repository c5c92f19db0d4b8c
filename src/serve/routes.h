// genre/serve: the routes and what each answers; the server (server.cpp) wires them up.
#pragma once

#include <httplib.h>

#include <string>
#include <vector>

#include "serve/classifier.h"
#include "serve/metrics.h"
#include "serve/serve.h"
#include "serve/worker_pool.h"

namespace genre::serve {

struct RouteContext {
  const ServeOptions& options;
  const Classifier& classifier;
  WorkerPool& pool;
  Metrics& metrics;
};

// The paths the service answers (metrics label every other path "unmatched").
const std::vector<std::string>& known_routes();

// Registers every route, and 405 (with Allow) for the other methods on them.
void add_routes(httplib::Server& server, RouteContext& context);

// The answer to "Expect: 100-continue" (curl asks before sending a large body): 100, or 413/401
// with the error body filled in, so an oversized or unauthenticated upload is refused before a
// byte of it is sent.
int expect_continue_status(const RouteContext& context, const httplib::Request& req,
                           httplib::Response& res);

}  // namespace genre::serve
