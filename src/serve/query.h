// genre/serve: the query options of POST /v1/classify and /v1/features, validated.
#pragma once

#include <httplib.h>

#include <string>

#include "predict/output.h"
#include "serve/classifier.h"

namespace genre::serve {

struct ClassifyQuery {
  ClassifyOptions classify;
  OutputOptions output;
  std::string error;  // non-empty: the reason the query is invalid (400)
};

// top_k (1..classes, default 3), threshold (0..1; multi-label models: only labels with p >= it,
// as genre predict --threshold), segments (0/1/true/false), hop (seconds, > 0, needs segments).
ClassifyQuery parse_classify_query(const httplib::Request& req, int n_classes);

// whole (0/1/true/false) for /v1/features; `error` set when invalid.
bool parse_bool_param(const httplib::Request& req, const std::string& name, bool fallback,
                      std::string& error);

}  // namespace genre::serve
