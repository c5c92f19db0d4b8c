#include "serve/query.h"

#include <cmath>
#include <cstdlib>

namespace genre::serve {

bool parse_bool_param(const httplib::Request& req, const std::string& name, bool fallback,
                      std::string& error) {
  if (!req.has_param(name)) return fallback;
  const std::string v = req.get_param_value(name);
  if (v == "1" || v == "true" || v == "yes" || v.empty()) return true;
  if (v == "0" || v == "false" || v == "no") return false;
  error = name + " must be 1 or 0 (true or false), not '" + v + "'";
  return fallback;
}

namespace {

bool parse_number(const std::string& text, double& value) {
  char* end = nullptr;
  value = std::strtod(text.c_str(), &end);
  return !text.empty() && end && *end == '\0' && std::isfinite(value);
}

}  // namespace

ClassifyQuery parse_classify_query(const httplib::Request& req, int n_classes) {
  ClassifyQuery q;
  if (req.has_param("top_k")) {
    double k = 0;
    if (!parse_number(req.get_param_value("top_k"), k) || k != std::floor(k) || k < 1 ||
        k > n_classes) {
      q.error = "top_k must be a whole number from 1 to " + std::to_string(n_classes);
      return q;
    }
    q.output.top_k = static_cast<int>(k);
  }
  if (req.has_param("threshold")) {
    double t = 0;
    if (!parse_number(req.get_param_value("threshold"), t) || t < 0 || t > 1) {
      q.error = "threshold must be a probability from 0 to 1";
      return q;
    }
    q.output.threshold = t;
  }
  q.classify.segments = parse_bool_param(req, "segments", false, q.error);
  if (!q.error.empty()) return q;
  if (req.has_param("hop")) {
    double hop = 0;
    if (!parse_number(req.get_param_value("hop"), hop) || hop <= 0 || hop > 3600) {
      q.error = "hop must be a number of seconds above 0 (at most 3600)";
      return q;
    }
    if (!q.classify.segments) {
      q.error = "hop is the time between segments: add segments=1";
      return q;
    }
    q.classify.hop_seconds = hop;
  }
  return q;
}

}  // namespace genre::serve
