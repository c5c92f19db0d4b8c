#include "predict/output.h"

#include <algorithm>
#include <cstdio>
#include <numeric>

#include "predict/timeline.h"

namespace genre {

std::vector<std::pair<std::string, float>> top_labels(const std::vector<float>& probabilities,
                                                      const std::vector<std::string>& classes,
                                                      const OutputOptions& options,
                                                      bool multi_label) {
  std::vector<std::size_t> order(probabilities.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return probabilities[a] > probabilities[b];
  });
  std::vector<std::pair<std::string, float>> out;
  for (std::size_t i = 0; i < order.size() && static_cast<int>(out.size()) < options.top_k; ++i) {
    if (multi_label && options.threshold > 0 && probabilities[order[i]] < options.threshold) break;
    out.emplace_back(classes[order[i]], probabilities[order[i]]);
  }
  return out;
}

nlohmann::json prediction_record(const Prediction& p, const ModelInfo& model,
                                 const OutputOptions& options) {
  nlohmann::json j = {{"version", kPredictionSchemaVersion}, {"input", p.input}, {"ok", p.ok()}};
  if (!p.ok()) {
    j["error"] = {{"kind", p.error_kind}, {"message", p.error}};
    return j;
  }
  const bool multi = model.arch.mode == OutputMode::kMultiLabel;
  nlohmann::json top = nlohmann::json::array();
  for (const auto& [label, prob] : top_labels(p.probabilities, model.classes, options, multi))
    top.push_back({{"label", label}, {"probability", prob}});
  j["top"] = top;
  j["label"] = top.empty() ? nlohmann::json(nullptr) : top[0]["label"];
  nlohmann::json all = nlohmann::json::object();
  for (std::size_t c = 0; c < model.classes.size(); ++c) all[model.classes[c]] = p.probabilities[c];
  j["probabilities"] = all;
  j["seconds"] = p.seconds;
  if (!p.segments.empty()) j["segments"] = segments_json(p.segments, model.classes);
  return j;
}

nlohmann::json prediction_document_header(const ModelInfo& model, const std::string& model_path) {
  return {{"schema", "genre.predictions"},
          {"version", kPredictionSchemaVersion},
          {"model",
           {{"path", model_path},
            {"classes", model.classes},
            {"mode", output_mode_name(model.arch.mode)}}}};
}

namespace {

std::string csv_escape(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

std::string csv_header(const OutputOptions& options) {
  std::string h = "input,ok";
  for (int k = 1; k <= options.top_k; ++k)
    h += ",label_" + std::to_string(k) + ",probability_" + std::to_string(k);
  return h + ",error\n";
}

std::string csv_row(const Prediction& p, const ModelInfo& model, const OutputOptions& options) {
  std::string row = csv_escape(p.input) + "," + (p.ok() ? "true" : "false");
  std::vector<std::pair<std::string, float>> top;
  if (p.ok())
    top = top_labels(p.probabilities, model.classes, options,
                     model.arch.mode == OutputMode::kMultiLabel);
  for (int k = 0; k < options.top_k; ++k) {
    if (k < static_cast<int>(top.size())) {
      char prob[32];
      std::snprintf(prob, sizeof prob, "%.6f", top[k].second);
      row += "," + csv_escape(top[k].first) + "," + prob;
    } else {
      row += ",,";
    }
  }
  return row + "," + csv_escape(p.error) + "\n";
}

std::string table_row(const Prediction& p, const ModelInfo& model, const OutputOptions& options) {
  if (!p.ok()) return p.input + "  ERROR " + p.error_kind + ": " + p.error + "\n";
  std::string line = p.input + "\n ";
  char buf[96];
  const bool multi = model.arch.mode == OutputMode::kMultiLabel;
  for (const auto& [label, prob] : top_labels(p.probabilities, model.classes, options, multi)) {
    std::snprintf(buf, sizeof buf, "  %-12s %5.1f%%", label.c_str(), 100.0 * prob);
    line += buf;
  }
  line += "\n";
  return line + timeline_text(p, model);
}

}  // namespace genre
