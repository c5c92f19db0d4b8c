#include "cli/options.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/error.h"

namespace genre::cli {

void add_data_options(CLI::App* app, DataOptions& o) {
  app->add_option("-j,--jobs", o.jobs, "Feature extraction threads (default: all cores)");
  app->add_option("--cache", o.cache_dir,
                  "Feature cache directory (default: $GENRE_CACHE or ~/.cache/genre)");
  app->add_flag("--no-cache", o.no_cache, "Do not read or write the feature cache");
}

void add_precision_option(CLI::App* app, std::string& precision) {
  app->add_option("--precision", precision,
                  "Arithmetic: fp32, bf16 (autocast: ~2x faster on CPUs with AVX512-BF16/AMX, "
                  "probabilities within ~1e-2) or fp16 (CUDA only)")
      ->default_val("fp32")
      ->check(CLI::IsMember({"fp32", "bf16", "fp16"}));
}

void add_device_option(CLI::App* app, std::string& device) {
  app->add_option("--device", device, "auto (CUDA when LibTorch has it), cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
      ->default_val("auto");
}

void add_arch_options(CLI::App* app, ArchOptions& o) {
  app->add_option("--arch", o.arch_json, "Architecture config JSON file (see docs/model-file.md)");
  app->add_option("--channels", o.channels, "Conv channels per block, e.g. 32,64,64,128,128");
  app->add_option("--pools", o.pools, "Max-pool (freq x time) per block, e.g. 2x2,2x2,2x2,3x3,4x4");
  app->add_option("--gru-hidden", o.gru_hidden, "GRU width (default 32)");
  app->add_option("--gru-layers", o.gru_layers, "GRU layers (default 2)");
  app->add_option(
         "--input-frames", o.input_frames,
         "Train on crops of this many frames (0: the whole 1366-frame excerpt); predictions "
         "average the crops over the excerpt")
      ->each([&o](const std::string&) { o.input_frames_set = true; });
  app->add_option("--conv-dropout", o.conv_dropout, "Dropout after each conv block (default 0.1)");
  app->add_option("--final-dropout", o.final_dropout,
                  "Dropout before the output layer (default 0.3)");
  app->add_flag("--no-input-norm", o.no_input_norm, "No batch norm over the mel bins at the input");
}

ArchConfig ArchOptions::build(int n_classes, bool multi_label) const {
  ArchConfig c = arch_default_params();
  if (!arch_json.empty()) {
    std::ifstream in(arch_json);
    if (!in) throw Error(ErrorKind::kInvalidArgument, arch_json, "cannot open architecture config");
    nlohmann::json j = nlohmann::json::parse(in);
    j["n_classes"] = n_classes;
    c = j.get<ArchConfig>();
  }
  if (!channels.empty()) {
    c.channels.clear();
    std::stringstream ss(channels);
    std::string item;
    while (std::getline(ss, item, ',')) c.channels.push_back(std::stoi(item));
  }
  if (!pools.empty()) {
    c.pools.clear();
    std::stringstream ss(pools);
    std::string item;
    while (std::getline(ss, item, ',')) {
      const auto x = item.find('x');
      if (x == std::string::npos)
        throw Error(ErrorKind::kInvalidArgument, "", "--pools items look like 2x4");
      c.pools.emplace_back(std::stoi(item.substr(0, x)), std::stoi(item.substr(x + 1)));
    }
  }
  if (gru_hidden > 0) c.gru_hidden = gru_hidden;
  if (gru_layers > 0) c.gru_layers = gru_layers;
  if (input_frames_set) c.input_frames = input_frames;
  if (conv_dropout >= 0) c.conv_dropout = conv_dropout;
  if (final_dropout >= 0) c.final_dropout = final_dropout;
  if (no_input_norm) c.input_norm = "none";
  c.n_classes = n_classes;
  c.mode = multi_label ? OutputMode::kMultiLabel : OutputMode::kSingleLabel;
  c.validate();
  return c;
}

ArchConfig ArchOptions::build_from(const ArchConfig& init_arch, int n_classes,
                                   bool multi_label) const {
  ArchConfig c = init_arch;
  c.n_classes = n_classes;
  c.mode = multi_label ? OutputMode::kMultiLabel : OutputMode::kSingleLabel;
  if (input_frames_set) c.input_frames = input_frames;
  c.validate();
  return c;
}

void add_transfer_options(CLI::App* app, TransferOptions& o) {
  app->add_option("--backbone", o.backbones,
                  "Train a transfer model: a dense layer on the layer features (conv blocks' "
                  "means, GRU state, outputs) of this frozen pretrained CRNN (repeatable: the "
                  "features of several are concatenated), e.g. models/msd-tags.pt");
  app->add_option("--head-hidden", o.head_hidden,
                  "With --backbone: a hidden ReLU layer of this width between the features and "
                  "the output layer (0: the dense layer alone)")
      ->check(CLI::Range(0, 65536));
}

void TransferOptions::check() const {
  if (head_hidden > 0 && !enabled())
    throw Error(ErrorKind::kInvalidArgument, "",
                "--head-hidden needs --backbone: head_hidden applies to transfer models only");
}

std::vector<Model> TransferOptions::load() const {
  std::vector<Model> models;
  for (const auto& path : backbones) models.push_back(load_model(path));
  return models;
}

TransferParams TransferOptions::params(const ArchOptions& arch) const {
  TransferParams p = transfer_default_params();
  if (arch.input_frames_set) p.input_frames = arch.input_frames;
  if (arch.final_dropout >= 0) p.final_dropout = arch.final_dropout;
  p.head_hidden = head_hidden;
  return p;
}

void add_train_params(CLI::App* app, TrainParams& p) {
  app->add_option("--epochs", p.epochs, "Training epochs")->default_val(p.epochs);
  app->add_option("--batch-size", p.batch_size, "Mini-batch size")->default_val(p.batch_size);
  app->add_option("--lr", p.lr, "Adam learning rate")->default_val(p.lr);
  app->add_option("--weight-decay", p.weight_decay, "Adam weight decay (L2)")
      ->default_val(p.weight_decay);
  app->add_option("--backbone-lr", p.backbone_lr,
                  "Learning rate of every layer but the head (output and hidden layer), for "
                  "fine-tuning pretrained layers (--init, or --backbone with --fine-tune-epochs); "
                  "0 freezes them (default: --lr; with --fine-tune-epochs: --lr / 10)");
  app->add_option("--fine-tune-epochs", p.fine_tune_epochs,
                  "With --backbone: after fitting the head on frozen features, train the whole "
                  "model end to end this many epochs more (slow: every step runs the backbones)")
      ->check(CLI::NonNegativeNumber);
  app->add_option("--seed", p.seed, "Random seed (runs on CPU are deterministic for a seed)")
      ->default_val(p.seed);
  app->add_option("--threads", p.threads, "LibTorch threads (default: all cores)");
  add_device_option(app, p.device);
  app->add_option("--amp", p.amp,
                  "Mixed precision for training: none, bf16 (autocast; faster on CPUs with "
                  "AVX512-BF16/AMX and on recent GPUs) or fp16 (CUDA only; autocast with "
                  "dynamic loss scaling)")
      ->default_val(p.amp)
      ->check(CLI::IsMember({"none", "bf16", "fp16"}));
  app->add_flag("!--no-balance", p.balance_classes,
                "Do not weight the loss by inverse class frequency");
  app->add_flag("--balance-crops", p.balance_by_crops,
                "Count class frequency over the crops drawn per epoch, not over tracks");
  app->add_flag("--random-crop", p.random_crop,
                "Augment: random crop offsets (with --input-frames)");
  app->add_option(
         "--crops-per-track", p.crops_per_track,
         "With --input-frames: crops per track and epoch (0: proportional to track length)")
      ->default_val(p.crops_per_track);
  app->add_option("--gain-db", p.gain_db, "Augment: random gain in [-G, G] dB");
  app->add_option("--freq-masks", p.freq_masks, "Augment: SpecAugment frequency masks per example");
  app->add_option("--freq-mask-width", p.freq_mask_width, "Widest frequency mask (mel bins)")
      ->default_val(p.freq_mask_width);
  app->add_option("--time-masks", p.time_masks, "Augment: SpecAugment time masks per example");
  app->add_option("--time-mask-width", p.time_mask_width, "Widest time mask (frames)")
      ->default_val(p.time_mask_width);
  app->add_option("--mixup", p.mixup_alpha, "Augment: mixup with Beta(alpha, alpha) (0 = off)");
  app->add_option("--time-stretch", p.time_stretch,
                  "Augment: play each crop at a random rate in [1/(1+S), 1+S] (0 = off)")
      ->check(CLI::Range(0.0, 0.99));
  app->add_option("--freq-shift", p.freq_shift,
                  "Augment: shift the mel axis by up to F bands (~1 semitone per band above 1 kHz)")
      ->check(CLI::NonNegativeNumber);
  app->add_option("--label-smoothing", p.label_smoothing,
                  "Single-label: target 1-E on the label, E spread over all classes (0 = off)")
      ->check(CLI::Range(0.0, 1.0));
  app->add_option("--early-stopping", p.early_stopping,
                  "Stop after N epochs without validation improvement");
  app->add_option("--lr-patience", p.lr_patience,
                  "Reduce the LR after N epochs without improvement");
  app->add_option("--lr-factor", p.lr_factor, "LR reduction factor")->default_val(p.lr_factor);
  app->add_option("--lr-schedule", p.lr_schedule,
                  "constant, or cosine (decay from --lr towards 0 over the epochs)")
      ->check(CLI::IsMember({"constant", "cosine"}))
      ->default_val(p.lr_schedule);
  app->add_option("--average-last", p.average_last,
                  "Keep the average of the last N epochs' weights instead of the best");
  app->add_flag("-q,--quiet", p.quiet, "No progress output");
}

}  // namespace genre::cli
