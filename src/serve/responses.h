// genre/serve: the bodies the API answers with (docs/serve.md).
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <string>

#include "predict/output.h"
#include "serve/classifier.h"

namespace genre::serve {

struct Timings {
  double queue_seconds = 0;  // waiting for a worker
  double run_seconds = 0;    // decoding + model
  double total_seconds = 0;  // from the request's headers to the answer (upload included)
};

// The `genre predict --json` document (schema genre.predictions, same version) with the one
// prediction of the upload; the record gains "duration_seconds", the document "timings".
nlohmann::json classification_document(const Classifier& classifier, const Classification& c,
                                       const OutputOptions& output, const Timings& timings);

// GET /v1/model: classes, feature and architecture config, training figures and provenance as
// the model file carries them, and the parameter count.
nlohmann::json model_document(const Classifier& classifier);

// HTTP status for a failed prediction's error kind: 422 for audio the service cannot use, 500
// for anything else.
int status_for_error_kind(const std::string& kind);

void send_json(httplib::Response& res, int status, const nlohmann::json& body);
// {"error": {"status": S, "kind": K, "message": M}}
void send_error(httplib::Response& res, int status, const std::string& kind,
                const std::string& message);

}  // namespace genre::serve
