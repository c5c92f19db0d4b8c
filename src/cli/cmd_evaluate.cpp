// genre evaluate: a model on a labelled dataset -> accuracy, per-class scores, confusion matrix.
#include <iostream>

#include "cli/commands.h"
#include "cli/options.h"
#include "common/error.h"
#include "common/parallel.h"
#include "model/inference.h"
#include "predict/predictor.h"
#include "train/metrics.h"
#include "train/prepare.h"

namespace genre::cli {

namespace {

struct EvaluateOptions {
  std::string model, data, split = "test", split_spec, plot;
  bool json = false;
  int batch_size = 32;
  std::string device = "auto";
  std::string precision = "fp32";
  DataOptions data_opts;
};

int run_evaluate(const EvaluateOptions& o) {
  const torch::Device device = resolve_device(o.device);
  Model model = load_model(resolve_model_argument(o.model), device);
  model.precision = parse_precision(o.precision);
  PreparedData data = prepare_data(o.data, model.info.classes, model.info.features,
                                   o.data_opts.cache(), o.data_opts.jobs, o.json);
  std::vector<std::size_t> indices;
  std::string how;
  if (o.split == "all") {
    indices = data.all_indices();
    how = "all tracks";
  } else {
    // The split the model was trained with, unless told otherwise.
    SplitSpec spec;
    if (!o.split_spec.empty())
      spec = SplitSpec::parse(o.split_spec, 1, 0.15, 0.15);
    else if (model.info.training.contains("split"))
      spec = SplitSpec::from_json(model.info.training["split"]);
    how = apply_split(data.dataset, spec);
    indices = data.dataset.indices_of_split(o.split);
  }
  const std::vector<Example> set = data.select(indices);
  if (set.empty())
    throw Error(ErrorKind::kData, o.data, "no tracks in split '" + o.split + "' (" + how + ")");
  torch::set_num_threads(hardware_threads());
  prepare_for_inference(model.net);  // as genre predict runs it
  const EvalScores scores = evaluate_examples(model, set, o.batch_size, device);
  std::vector<int> truth;
  for (const auto& e : set) truth.push_back(e.labels[0]);
  const ClassificationReport report =
      classification_report(truth, scores.predicted, model.info.classes);
  if (o.json) {
    nlohmann::json j = report_to_json(report);
    j["model"] = o.model;
    j["data"] = o.data;
    j["split"] = o.split;
    j["failed_tracks"] = data.failed;
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << "model " << o.model << " on " << o.data << ", split '" << o.split << "' (" << how
              << ")\n"
              << format_report(report);
  }
  if (!o.plot.empty()) plot_confusion_matrix(report, o.plot, "confusion matrix");
  return data.failed ? kExitSomeFailed : kExitOk;
}

}  // namespace

void add_evaluate_command(CLI::App& app, std::vector<Command>& commands) {
  auto o = std::make_shared<EvaluateOptions>();
  CLI::App* sub = app.add_subcommand("evaluate", "Evaluate a model on a labelled dataset");
  sub->add_option("-m,--model", o->model, "Model file")->required();
  sub->add_option("--data", o->data, "Dataset (folder per class or CSV/TSV manifest)")->required();
  sub->add_option("--split", o->split, "Which tracks: test, valid, train or all")
      ->check(CLI::IsMember({"test", "valid", "train", "all"}))
      ->default_val("test");
  sub->add_option(
      "--split-spec", o->split_spec,
      "How to split (random, manifest, none or a split-list directory); default: as in training");
  sub->add_flag("--json", o->json, "Print the report as JSON");
  sub->add_option("--plot", o->plot, "Write the confusion matrix as a picture (.png or .svg)");
  sub->add_option("--batch-size", o->batch_size, "Inference batch size")->default_val(32);
  add_device_option(sub, o->device);
  add_precision_option(sub, o->precision);
  add_data_options(sub, o->data_opts);
  sub->footer(
      "Exit status: 0 ok, 1 some tracks could not be read (they are reported and left out), 2 "
      "usage error.");
  commands.push_back({sub, [o] { return run_evaluate(*o); }});
}

}  // namespace genre::cli
