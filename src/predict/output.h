// genre/predict: prediction records in the documented schema (docs/predict-output.md) and their
// renderings: terminal table, JSON, JSONL, CSV (genre over time: predict/timeline.h).
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "predict/predictor.h"

namespace genre {

constexpr int kPredictionSchemaVersion = 2;

struct OutputOptions {
  int top_k = 3;
  double threshold = 0.0;  // multi-label: only labels with p >= threshold (0: top-k only)
};

// Labels to show: the top-k by probability (multi-label: also >= threshold).
std::vector<std::pair<std::string, float>> top_labels(const std::vector<float>& probabilities,
                                                      const std::vector<std::string>& classes,
                                                      const OutputOptions& options,
                                                      bool multi_label);

// One JSON object per input (the JSONL line / an element of the JSON "predictions" array).
nlohmann::json prediction_record(const Prediction& p, const ModelInfo& model,
                                 const OutputOptions& options);

// The JSON document header: schema, version, model description.
nlohmann::json prediction_document_header(const ModelInfo& model, const std::string& model_path);

std::string csv_header(const OutputOptions& options);
std::string csv_row(const Prediction& p, const ModelInfo& model, const OutputOptions& options);

// Human-readable: one line per input (plus a timeline with segments).
std::string table_row(const Prediction& p, const ModelInfo& model, const OutputOptions& options);

}  // namespace genre
