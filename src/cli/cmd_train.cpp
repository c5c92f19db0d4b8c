// genre train: dataset -> model file (+ checkpoint, JSONL log, training curves, test report).
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "cli/options.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "model/inference.h"
#include "train/curves.h"
#include "train/distributed.h"
#include "train/frozen.h"
#include "train/metrics.h"
#include "train/prepare.h"
#include "train/transfer.h"

namespace genre::cli {

namespace {

struct TrainOptions {
  std::string data, out, split = "auto", extra_train, resume, checkpoint, log, plot, init;
  double valid_fraction = 0.15, test_fraction = 0.15;
  bool freeze_conv = false;
  ArchOptions arch;
  TransferOptions transfer;
  DataOptions data_opts;
  DistributedOptions distributed;
  TrainParams params = train_default_params();
};

std::string now_iso8601() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

int run_train(TrainOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  TrainParams& p = o.params;
  const nlohmann::json distributed = o.distributed.start(p);
  // In a data-parallel job only rank 0 writes; every process takes part in every computation.
  const bool writer = distributed_job().is_root();
  if (o.checkpoint.empty()) o.checkpoint = o.out + ".ckpt";
  if (o.log.empty()) o.log = o.out + ".log.jsonl";
  if (o.plot.empty()) o.plot = o.out + ".curves.svg";
  p.checkpoint = writer ? o.checkpoint : "";
  p.log_jsonl = writer ? o.log : "";
  // A run killed mid-write leaves its temporary files beside the outputs: clear them away.
  if (writer)
    for (const std::string& f : {o.out, o.checkpoint, o.log, o.plot}) {
      const std::string dir = std::filesystem::path(f).parent_path().string();
      remove_stale_temporaries(dir.empty() ? "." : dir);
    }

  // Transfer learning starts from another model's features and weights.
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
  PreparedData data =
      prepare_data(o.data, {}, features, o.data_opts.cache(), o.data_opts.jobs, p.quiet);
  const SplitSpec spec = SplitSpec::parse(o.split, p.seed, o.valid_fraction, o.test_fraction);
  const std::string split_report = apply_split(data.dataset, spec);
  if (writer)
    std::cerr << "data: " << data.dataset.tracks.size() << " tracks in "
              << data.dataset.classes.size() << " classes from " << o.data
              << (data.failed ? " (" + std::to_string(data.failed) + " unreadable, skipped)" : "")
              << "\n"
              << split_report << "\n";

  std::vector<Example> train_set = data.select(data.dataset.indices_of_split("train"));
  const std::vector<Example> valid_set = data.select(data.dataset.indices_of_split("valid"));
  const std::vector<Example> test_set = data.select(data.dataset.indices_of_split("test"));
  PreparedData extra;
  if (!o.extra_train.empty()) {
    extra = prepare_data(o.extra_train, data.dataset.classes, features, o.data_opts.cache(),
                         o.data_opts.jobs, p.quiet);
    const auto more = extra.select(extra.all_indices());
    train_set.insert(train_set.end(), more.begin(), more.end());
    if (writer)
      std::cerr << "extra training data: " << more.size() << " tracks from " << o.extra_train
                << "\n";
  }

  ModelInfo info;
  info.classes = data.dataset.classes;
  info.features = features;
  if (!o.init.empty()) {
    info.arch = o.arch.build_from(init.info.arch, static_cast<int>(info.classes.size()),
                                  data.dataset.multi_label);
  } else {
    info.arch = o.arch.build(static_cast<int>(info.classes.size()), data.dataset.multi_label);
  }
  torch::manual_seed(p.seed);
  Model model;
  if (o.transfer.enabled()) {
    if (data.dataset.multi_label)
      throw Error(ErrorKind::kInvalidArgument, "", "--backbone trains single-label classes only");
    model = make_transfer_model(backbones, info.classes, o.transfer.params(o.arch));
    info = model.info;
  } else {
    model = make_model(info);
  }
  if (!o.init.empty()) transfer_weights(model, init, o.freeze_conv);

  TrainResult result;
  if (o.transfer.enabled()) {
    // The head fits on the backbones' features, computed once per track; then, with
    // --fine-tune-epochs, the whole network (resumable).
    result = train_transfer(model, train_set, {}, p, o.resume);
  } else if (!o.init.empty() && o.freeze_conv) {
    // The frozen conv part runs once per track; only the GRUs and output layer are fitted.
    const torch::Device dev = resolve_device(p.device);
    const auto inputs = frozen_inputs(model, train_set, Freeze::kConv, p.batch_size, dev);
    result = train_frozen(model, inputs, train_set, Freeze::kConv, p);
  } else {
    result = train(model, train_set, valid_set, p, o.resume);
  }

  // Record how the model was made, and how well it does, inside the model file.
  const torch::Device device = resolve_device(p.device);
  nlohmann::json training = {
      {"data", o.data},
      {"extra_train", o.extra_train},
      {"split", spec.to_json()},
      {"tracks",
       {{"train", train_set.size()}, {"valid", valid_set.size()}, {"test", test_set.size()}}},
      {"params", train_params_json(p)},
      {"epochs_run", result.history.size()},
      {"best_epoch", result.best_epoch},
      {"valid_score", result.best_valid_score},
      {"training_seconds", result.seconds},
      {"date", now_iso8601()},
      {"init", o.init},
      {"backbones", o.transfer.backbones},
      {"freeze_conv", o.freeze_conv},
      {"distributed", distributed}};
  if (!test_set.empty()) {
    const EvalScores test = evaluate_examples(model, test_set, p.batch_size, device);
    std::vector<int> truth;
    for (const auto& e : test_set) truth.push_back(e.labels[0]);
    const ClassificationReport report = classification_report(truth, test.predicted, info.classes);
    if (writer) std::cout << "test set:\n" << format_report(report);
    training["test"] = {
        {"accuracy", report.accuracy}, {"macro_f1", report.macro_f1}, {"tracks", report.total}};
  }
  model.info.training = training;
  if (!o.init.empty()) model.info.provenance = init.info.provenance;
  // (a transfer model keeps the provenance and licences of its backbones from make_transfer_model)
  if (!writer) return kExitOk;
  save_model(o.out, model);

  try {
    plot_training_curves(result.history, !valid_set.empty(), o.plot, "training curves: " + o.out);
  } catch (const Error& e) {
    std::cerr << "genre train: warning: " << e.what() << "\n";
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cerr << "saved " << o.out << " (best epoch " << result.best_epoch << ", validation score "
            << result.best_valid_score << "); log " << o.log << ", curves " << o.plot << "; took "
            << static_cast<int>(seconds) << " s\n";
  return kExitOk;
}

}  // namespace

void add_train_command(CLI::App& app, std::vector<Command>& commands) {
  auto o = std::make_shared<TrainOptions>();
  CLI::App* sub =
      app.add_subcommand("train", "Train a CRNN on a labelled dataset and write a model file");
  sub->add_option(
         "--data", o->data,
         "Dataset: a folder per class (GTZAN layout, genres/<genre>/...) or a CSV/TSV manifest "
         "(path,label[,split]; labels 'a;b' make a multi-label dataset)")
      ->required();
  sub->add_option("-o,--out", o->out, "Model file to write")->required();
  sub->add_option(
         "--split", o->split,
         "auto (manifest splits, else random), random, manifest, none, or a directory of split "
         "lists (train/valid/test[_filtered].txt)")
      ->default_val("auto");
  sub->add_option("--valid-fraction", o->valid_fraction, "Validation share of a random split")
      ->default_val(0.15);
  sub->add_option("--test-fraction", o->test_fraction, "Test share of a random split")
      ->default_val(0.15);
  sub->add_option("--extra-train", o->extra_train,
                  "More training-only data (same classes; never evaluated)");
  sub->add_option("--resume", o->resume,
                  "Continue from a checkpoint written by an interrupted run");
  sub->add_option("--checkpoint", o->checkpoint,
                  "Checkpoint path (default: OUT.ckpt), written every epoch");
  sub->add_option("--log", o->log, "JSONL training log (default: OUT.log.jsonl)");
  sub->add_option("--plot", o->plot, "Training curves, .svg or .png (default: OUT.curves.svg)");
  sub->add_option("--init", o->init,
                  "Start from this model's weights (transfer learning; output layer replaced)");
  sub->add_flag("--freeze-conv", o->freeze_conv,
                "With --init: train only the recurrent and output layers");
  add_train_params(sub, o->params);
  add_arch_options(sub, o->arch);
  add_transfer_options(sub, o->transfer);
  add_data_options(sub, o->data_opts);
  add_distributed_options(sub, o->distributed);
  sub->footer(
      "Example: genre train --data GTZAN/genres --split GTZAN/split --out gtzan.pt --epochs 50\n"
      "Data-parallel: scripts/launch-local 2 -- genre train ... (or torchrun-style MASTER_ADDR, "
      "MASTER_PORT, RANK, WORLD_SIZE; srun; a Kubernetes Job): see docs/scaling.md");
  commands.push_back({sub, [o] { return run_train(*o); }});
}

}  // namespace genre::cli
