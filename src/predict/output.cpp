#include "predict/output.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <numeric>

#include "common/plot.h"

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
  if (!p.segment_starts.empty()) {
    nlohmann::json segs = nlohmann::json::array();
    for (std::size_t w = 0; w < p.segment_starts.size(); ++w) {
      const auto& probs = p.segment_probabilities[w];
      const auto best = std::max_element(probs.begin(), probs.end()) - probs.begin();
      segs.push_back({{"start", p.segment_starts[w]},
                      {"end", p.segment_starts[w] + p.window_seconds},
                      {"label", model.classes[best]},
                      {"probabilities", probs}});
    }
    j["segments"] = {{"window_seconds", p.window_seconds},
                     {"hop_seconds", p.hop_seconds},
                     {"classes", model.classes},
                     {"windows", segs}};
  }
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

std::string clock(double seconds) {
  char buf[32];
  const int s = static_cast<int>(seconds + 0.5);
  std::snprintf(buf, sizeof buf, "%d:%02d", s / 60, s % 60);
  return buf;
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
  for (std::size_t w = 0; w < p.segment_starts.size(); ++w) {
    OutputOptions one = options;
    one.top_k = std::min(2, options.top_k);
    const auto top = top_labels(p.segment_probabilities[w], model.classes, one, multi);
    std::string bar(static_cast<std::size_t>(20 * (top.empty() ? 0 : top[0].second) + 0.5), '#');
    std::snprintf(buf, sizeof buf, "   %6s-%-6s %-20s", clock(p.segment_starts[w]).c_str(),
                  clock(p.segment_starts[w] + p.window_seconds).c_str(), bar.c_str());
    line += buf;
    for (const auto& [label, prob] : top) {
      std::snprintf(buf, sizeof buf, "  %s %.2f", label.c_str(), prob);
      line += buf;
    }
    line += "\n";
  }
  return line;
}

void plot_segments(const Prediction& p, const ModelInfo& model, const std::string& path) {
  std::vector<std::vector<double>> values(model.classes.size(),
                                          std::vector<double>(p.segment_starts.size()));
  std::vector<std::string> times;
  for (std::size_t w = 0; w < p.segment_starts.size(); ++w) {
    times.push_back(clock(p.segment_starts[w]));
    for (std::size_t c = 0; c < model.classes.size(); ++c)
      values[c][w] = p.segment_probabilities[w][c];
  }
  plot_heatmap(path, "genre over time: " + std::filesystem::path(p.input).filename().string(),
               values, model.classes, times, "genre", "window start (m:ss)",
               p.segment_starts.size() <= 20, 1.0);
}

}  // namespace genre
