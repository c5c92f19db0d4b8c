// genre cv: stratified k-fold cross-validation of a training recipe.
#include <cstdio>
#include <fstream>
#include <iostream>

#include "cli/commands.h"
#include "cli/options.h"
#include "common/error.h"
#include "train/cross_validation.h"
#include "train/distributed.h"

namespace genre::cli {

namespace {

struct CvOptions {
  std::string data, extra_train, init, plot, json_out;
  bool json = false, freeze_conv = false, linear_probe = false;
  int folds = 10;
  ArchOptions arch;
  TransferOptions transfer;
  DataOptions data_opts;
  DistributedOptions distributed;
  TrainParams params = train_default_params();
};

int run_cv(CvOptions& o) {
  // A data-parallel job trains every fold with all its processes; rank 0 reports.
  const nlohmann::json distributed = o.distributed.start(o.params);
  const bool writer = distributed_job().is_root();
  Model init;
  FeatureConfig features = feature_default_params();
  std::vector<Model> backbones;
  if (o.transfer.enabled() && !o.init.empty())
    throw Error(ErrorKind::kInvalidArgument, "", "use either --backbone or --init");
  o.transfer.check();
  if (!o.init.empty()) {
    init = load_model(o.init);
    features = init.info.features;
  } else if (o.transfer.enabled()) {
    backbones = o.transfer.load();
    features = backbones.front().info.features;
  }
  const bool quiet_data = o.json || o.params.quiet;
  PreparedData data =
      prepare_data(o.data, {}, features, o.data_opts.cache(), o.data_opts.jobs, quiet_data);
  PreparedData extra;
  if (!o.extra_train.empty())
    extra = prepare_data(o.extra_train, data.dataset.classes, features, o.data_opts.cache(),
                         o.data_opts.jobs, quiet_data);

  ModelInfo base;
  base.classes = data.dataset.classes;
  base.features = features;
  // LibTorch seeds its default generator at random: without this, the transfer head every fold
  // starts from would differ between runs (and between the processes of a job).
  torch::manual_seed(o.params.seed);
  if (o.transfer.enabled()) {
    // Every fold starts from the same backbones and fits only the head on cached features.
    init = make_transfer_model(backbones, base.classes, o.transfer.params(o.arch));
    base = init.info;
  } else if (!o.init.empty()) {
    base.arch = o.arch.build_from(init.info.arch, static_cast<int>(base.classes.size()), false);
  } else {
    base.arch = o.arch.build(static_cast<int>(base.classes.size()), false);
  }
  CvParams cp;
  cp.folds = o.folds;
  cp.train = o.params;
  cp.init = o.init.empty() && !o.transfer.enabled() ? nullptr : &init;
  cp.freeze_conv = o.freeze_conv;
  cp.linear_probe = o.linear_probe || o.transfer.enabled();
  if (writer)
    std::cerr << "cv: " << o.folds << " folds over " << data.dataset.tracks.size() << " tracks"
              << (o.extra_train.empty() ? ""
                                        : " + " + std::to_string(extra.dataset.tracks.size()) +
                                              " extra training tracks")
              << "\n";
  const CvResult r = cross_validate(
      data, o.extra_train.empty() ? nullptr : &extra, base, cp, [&](int k, double acc) {
        if (writer) std::fprintf(stderr, "fold %d/%d: accuracy %.3f\n", k + 1, o.folds, acc);
      });
  if (!writer) return kExitOk;
  nlohmann::json j = r.to_json(base.classes);
  j["data"] = o.data;
  j["extra_train"] = o.extra_train;
  j["init"] = o.init;
  j["backbones"] = o.transfer.backbones;
  j["arch"] = base.arch;
  j["params"] = train_params_json(o.params);
  j["distributed"] = distributed;
  if (o.json) {
    std::cout << j.dump(2) << "\n";
  } else {
    std::printf("accuracy per fold:");
    for (double a : r.fold_accuracy) std::printf(" %.3f", a);
    std::printf(
        "\nmean accuracy %.4f +- %.4f (std over %d folds); pooled macro F1 %.4f; %.0f s\n\n",
        r.mean_accuracy, r.std_accuracy, o.folds, r.pooled.macro_f1, r.seconds);
    if (r.independent_crops_accuracy >= 0)
      std::printf("pooled accuracy with independent crops (as in training): %.4f\n\n",
                  r.independent_crops_accuracy);
    std::printf("pooled over all folds:\n%s", format_report(r.pooled).c_str());
  }
  if (!o.json_out.empty()) std::ofstream(o.json_out) << j.dump(2) << "\n";
  if (!o.plot.empty())
    plot_confusion_matrix(r.pooled, o.plot, std::to_string(o.folds) + "-fold CV, pooled");
  return kExitOk;
}

}  // namespace

void add_cv_command(CLI::App& app, std::vector<Command>& commands) {
  auto o = std::make_shared<CvOptions>();
  CLI::App* sub = app.add_subcommand("cv",
                                     "Stratified k-fold cross-validation: per-fold and mean +- std "
                                     "track accuracy, pooled confusion matrix");
  sub->add_option("--data", o->data, "Dataset to cross-validate (folder per class or manifest)")
      ->required();
  sub->add_option("--folds", o->folds, "Number of folds")
      ->default_val(10)
      ->check(CLI::Range(2, 1000));
  sub->add_option("--extra-train", o->extra_train,
                  "Training-only data added to every fold's training side");
  sub->add_option("--init", o->init, "Start every fold from this model (transfer learning)");
  sub->add_flag("--freeze-conv", o->freeze_conv,
                "With --init: freeze the input norm and conv blocks");
  sub->add_flag("--linear-probe", o->linear_probe, "With --init: train only the output layer");
  sub->add_flag("--json", o->json,
                "Print the result as JSON (mean_accuracy, std_accuracy, folds, pooled)");
  sub->add_option("--json-out", o->json_out, "Also write the JSON result to this file");
  sub->add_option("--plot", o->plot, "Pooled confusion matrix picture (.png or .svg)");
  add_train_params(sub, o->params);
  add_arch_options(sub, o->arch);
  add_transfer_options(sub, o->transfer);
  add_data_options(sub, o->data_opts);
  add_distributed_options(sub, o->distributed);
  commands.push_back({sub, [o] { return run_cv(*o); }});
}

}  // namespace genre::cli
