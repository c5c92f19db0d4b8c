#include "serve/responses.h"

#include "model/model_file.h"

namespace genre::serve {

nlohmann::json classification_document(const Classifier& classifier, const Classification& c,
                                       const OutputOptions& output, const Timings& timings) {
  const ModelInfo& info = classifier.info();
  nlohmann::json doc = prediction_document_header(info, classifier.model_file());
  doc["model"]["id"] = classifier.model_id();
  nlohmann::json record = prediction_record(c.prediction, info, output);
  if (c.prediction.ok()) record["duration_seconds"] = c.duration_seconds;
  doc["predictions"] = nlohmann::json::array({record});
  doc["timings"] = {{"queue_seconds", timings.queue_seconds},
                    {"run_seconds", timings.run_seconds},
                    {"total_seconds", timings.total_seconds}};
  return doc;
}

nlohmann::json model_document(const Classifier& classifier) {
  nlohmann::json doc = model_metadata(classifier.info());
  doc["file"] = classifier.model_file();
  doc["id"] = classifier.model_id();
  doc["mode"] = output_mode_name(classifier.info().arch.mode);
  return doc;
}

int status_for_error_kind(const std::string& kind) {
  if (kind == "not_audio" || kind == "unsupported_format" || kind == "empty" || kind == "corrupt")
    return 422;
  return 500;
}

void send_json(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  // Upload names need not be UTF-8: replace bad bytes instead of failing the response.
  res.set_content(body.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n",
                  "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& kind,
                const std::string& message) {
  send_json(res, status, {{"error", {{"status", status}, {"kind", kind}, {"message", message}}}});
}

}  // namespace genre::serve
