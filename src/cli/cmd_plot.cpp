// genre plot: re-draw pictures from saved results (the model card's confusion matrix and training
// curves), without training again.
#include <filesystem>
#include <fstream>
#include <iostream>

#include "cli/commands.h"
#include "common/error.h"
#include "train/curves.h"
#include "train/metrics.h"

namespace genre::cli {

namespace {

struct PlotOptions {
  std::string input, out, title;
};

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(ErrorKind::kNotFound, path, "cannot open");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorKind::kCorrupt, path, std::string("not JSON: ") + e.what());
  }
}

// `genre cv --json(-out)` keeps the pooled report under "pooled"; `genre evaluate --json` is one.
int run_plot_confusion(const PlotOptions& o) {
  const nlohmann::json j = read_json(o.input);
  const bool cv = j.contains("pooled");
  std::string title = o.title;
  if (title.empty())
    title = cv && j.contains("folds") ? std::to_string(j["folds"].size()) + "-fold CV, pooled"
                                      : "confusion matrix";
  ClassificationReport report;
  try {
    report = report_from_json(cv ? j["pooled"] : j);
  } catch (const Error& e) {
    throw Error(ErrorKind::kData, o.input, e.what());
  }
  plot_confusion_matrix(report, o.out, title);
  std::cerr << "wrote " << o.out << "\n";
  return kExitOk;
}

int run_plot_curves(const PlotOptions& o) {
  const auto history = read_training_log(o.input);
  std::string title = o.title;
  if (title.empty()) {  // the run's name: m.log.jsonl -> m
    std::string name = std::filesystem::path(o.input).filename().string();
    const std::string suffix = ".log.jsonl";
    if (name.size() > suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      name.resize(name.size() - suffix.size());
    title = "training curves: " + name;
  }
  plot_training_curves(history, log_has_validation(history), o.out, title);
  std::cerr << "wrote " << o.out << "\n";
  return kExitOk;
}

CLI::App* add_plot_kind(CLI::App* parent, const std::string& name, const std::string& what,
                        const std::string& input_help, PlotOptions& o) {
  CLI::App* sub = parent->add_subcommand(name, what);
  sub->add_option("input", o.input, input_help)->required()->check(CLI::ExistingFile);
  sub->add_option("-o,--out", o.out, "Picture to write (.svg or .png)")->required();
  sub->add_option("--title", o.title, "Title (default: from the input)");
  return sub;
}

}  // namespace

void add_plot_command(CLI::App& app, std::vector<Command>& commands) {
  auto confusion = std::make_shared<PlotOptions>();
  auto curves = std::make_shared<PlotOptions>();
  CLI::App* sub = app.add_subcommand(
      "plot", "Draw a picture from saved results: a confusion matrix or training curves");
  sub->require_subcommand(1);
  CLI::App* cm = add_plot_kind(
      sub, "confusion", "Confusion matrix from `genre cv --json-out` or `genre evaluate --json`",
      "JSON file", *confusion);
  CLI::App* tc = add_plot_kind(sub, "curves", "Training curves from a `genre train --log` file",
                               "training log (.jsonl)", *curves);
  sub->footer(
      "Examples (the model card's pictures):\n"
      "  genre plot confusion models/genre-gtzan.cv.json -o models/genre-gtzan.cv-confusion.svg\n"
      "  genre plot curves models/genre-gtzan.log.jsonl -o models/genre-gtzan.curves.svg \\\n"
      "    --title 'training curves: models/genre-gtzan.pt'");
  commands.push_back({cm, [confusion] { return run_plot_confusion(*confusion); }});
  commands.push_back({tc, [curves] { return run_plot_curves(*curves); }});
}

}  // namespace genre::cli
