#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/parallel.h"
#include "common/progress.h"
#include "model/inference.h"
#include "train/augment.h"
#include "train/checkpoint.h"
#include "train/distributed.h"
#include "train/loss_scaler.h"

namespace genre {

TrainParams train_default_params() { return TrainParams{}; }

void check_fine_tuning_params(const TrainParams& p) {
  if ((p.backbone_lr < 0 && p.backbone_lr != -1) || p.fine_tune_epochs < 0)
    throw Error(ErrorKind::kInvalidArgument, "",
                "the backbone learning rate and fine-tuning epochs must not be negative");
}

namespace {

// What the schedule multiplies the LR by in an epoch (1-based): 1 throughout for "constant".
double schedule_factor(const TrainParams& p, int epoch) {
  if (p.lr_schedule == "cosine")
    return 0.5 * (1.0 + std::cos(M_PI * (epoch - 1) / std::max(1, p.epochs)));
  return 1.0;
}

// Adam over the trainable parameters in two groups: the head (the output layer, and a transfer
// model's hidden layer) at lr and every other layer at p.backbone_lr (when set; 0 leaves those
// layers frozen). `scale` gets each group's LR over lr.
torch::optim::Adam make_optimizer(Crnn& net, const TrainParams& p, std::vector<double>& scale) {
  std::vector<torch::Tensor> head, body;
  for (auto& param : net->named_parameters()) {
    if (p.backbone_lr == 0 && !is_head_parameter(param.key()))
      param.value().set_requires_grad(false);
    if (!param.value().requires_grad()) continue;
    (is_head_parameter(param.key()) || p.backbone_lr < 0 ? head : body).push_back(param.value());
  }
  const auto options = torch::optim::AdamOptions(p.lr).weight_decay(p.weight_decay);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  scale.clear();
  groups.emplace_back(head, std::make_unique<torch::optim::AdamOptions>(options));
  scale.push_back(1.0);
  if (!body.empty()) {
    groups.emplace_back(body, std::make_unique<torch::optim::AdamOptions>(options));
    scale.push_back(p.backbone_lr / p.lr);
  }
  return torch::optim::Adam(std::move(groups), options);
}

void set_lr(torch::optim::Adam& optimizer, double lr, const std::vector<double>& scale) {
  for (std::size_t g = 0; g < optimizer.param_groups().size(); ++g)
    static_cast<torch::optim::AdamOptions&>(optimizer.param_groups()[g].options())
        .lr(lr * scale.at(g));
}

std::string clock(double seconds) {
  char buf[32];
  const int s = static_cast<int>(seconds + 0.5);
  std::snprintf(buf, sizeof buf, "%02d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
  return buf;
}

void check_params(const std::vector<Example>& train_set, const TrainParams& p) {
  if (train_set.empty()) throw Error(ErrorKind::kData, "", "the training set is empty");
  if (p.epochs < 1 || p.batch_size < 1 || !(p.lr > 0))
    throw Error(ErrorKind::kInvalidArgument, "",
                "epochs, batch size and learning rate must be positive");
  if (p.lr_schedule != "constant" && p.lr_schedule != "cosine")
    throw Error(ErrorKind::kInvalidArgument, "", "lr schedule must be constant or cosine");
  if (!(p.time_stretch >= 0 && p.time_stretch < 1) || !(p.freq_shift >= 0))
    throw Error(ErrorKind::kInvalidArgument, "",
                "time stretch must be in [0, 1) and frequency shift >= 0");
  if (!(p.label_smoothing >= 0 && p.label_smoothing < 1))
    throw Error(ErrorKind::kInvalidArgument, "", "label smoothing must be in [0, 1)");
  check_fine_tuning_params(p);
  if (p.amp != "none" && p.amp != "bf16" && p.amp != "fp16")
    throw Error(ErrorKind::kInvalidArgument, "", "--amp must be none, bf16 or fp16");
}

// The checkpoint's bytes as rank 0 reads them, on every rank (no shared filesystem needed).
std::string read_checkpoint(const std::string& path, DistributedJob& job) {
  std::string bytes;
  if (job.is_root()) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    bytes = s.str();
  }
  bytes = job.broadcast_bytes(bytes);
  if (bytes.empty()) throw Error(ErrorKind::kNotFound, path, "cannot resume: cannot read it");
  return bytes;
}

// Everything one epoch of the loop needs besides the model and the optimizer.
struct EpochSetup {
  const std::vector<Example>& train_set;
  const TrainParams& p;
  int length, total_frames, n_classes;
  bool multi;
  torch::Tensor weight_row;  // [1, classes] loss weights
  torch::Device device;
};

Precision amp_precision(const std::string& amp) {
  return amp == "bf16" ? Precision::kBf16 : amp == "fp16" ? Precision::kFp16 : Precision::kFp32;
}

// Mean loss over a batch's examples (class-weighted, label-smoothed as the params say).
torch::Tensor batch_loss(const torch::Tensor& logits, const torch::Tensor& target,
                         const EpochSetup& s) {
  if (s.multi) return torch::binary_cross_entropy_with_logits(logits, target);
  const torch::Tensor log_probs = torch::log_softmax(logits, 1);
  const double e = s.p.label_smoothing;
  if (e > 0) {
    // Each example keeps its label's class weight; the smoothed target spreads its mass.
    const torch::Tensor example_weight = (target * s.weight_row).sum(1);
    const torch::Tensor smoothed = target * (1 - e) + e / s.n_classes;
    return (-example_weight * (smoothed * log_probs).sum(1)).mean();
  }
  return (-(target * s.weight_row * log_probs).sum(1)).mean();
}

struct EpochTotals {
  double loss_sum = 0, correct = 0;
};

// One pass over `order`. With several processes each global batch of batch_size x world_size
// examples is split between them; the loss of each slice is weighted by its share of the batch
// and the gradients are summed, so the step is the one a single process would take on the whole
// batch (batch norms are synchronised by the caller's BatchNormSyncGuard).
EpochTotals run_epoch(Crnn& net, torch::optim::Adam& optimizer, const EpochSetup& s,
                      const std::vector<std::size_t>& order, std::mt19937_64& rng, int epoch,
                      DistributedJob& job, LossScaler& scaler) {
  const std::size_t world = job.world_size();
  const std::size_t global_batch = static_cast<std::size_t>(s.p.batch_size) * world;
  const auto params = net->parameters();
  EpochTotals totals;
  Progress progress("epoch " + std::to_string(epoch) + "/" + std::to_string(s.p.epochs),
                    order.size(), s.p.quiet ? 0 : -1);
  for (std::size_t start = 0; start < order.size(); start += global_batch) {
    const std::size_t end = std::min(order.size(), start + global_batch);
    // Batch norm needs two or more examples; every process needs one.
    if ((end - start < 2 && order.size() > 1) || end - start < world) continue;
    std::vector<std::size_t> ids;
    for (std::size_t k = start + job.rank(); k < end; k += world) ids.push_back(order[k]);
    Batch batch = make_batch(s.train_set, ids, s.length, s.n_classes, s.multi, s.p, rng);
    // To a GPU from pinned memory, so the copy runs without a staging buffer.
    const bool cuda = s.device.is_cuda();
    const torch::Tensor x = (cuda ? batch.x.pin_memory() : batch.x).to(s.device, cuda);
    const torch::Tensor target =
        (cuda ? batch.target.pin_memory() : batch.target).to(s.device, cuda);
    torch::Tensor logits, loss;
    {
      const AutocastGuard amp(amp_precision(s.p.amp), s.device);
      logits = net->forward(x).to(torch::kFloat32);
      loss = batch_loss(logits, target, s);
    }
    optimizer.zero_grad();
    if (job.enabled())
      scaler.scale(loss * (static_cast<double>(ids.size()) / (end - start))).backward();
    else
      scaler.scale(loss).backward();
    job.all_reduce_gradients(params);
    // fp16: a step whose gradients overflowed is skipped (every process alike: the gradients
    // are already summed) and the loss scale lowered.
    const bool finite = scaler.unscale_and_check(params);
    if (finite) optimizer.step();
    scaler.update(finite);
    totals.loss_sum += loss.item<double>() * ids.size();
    totals.correct += logits.argmax(1).cpu().eq(batch.primary).sum().item<int64_t>();
    progress.tick(end - start);
  }
  progress.finish();
  if (job.enabled()) {
    torch::Tensor sums = torch::tensor({totals.loss_sum, totals.correct}, torch::kDouble);
    job.all_reduce_sum(sums);
    totals = {sums[0].item<double>(), sums[1].item<double>()};
  }
  return totals;
}

void print_epoch(const EpochStats& stats, const TrainParams& p, bool has_valid, bool multi) {
  const double eta = stats.seconds * (p.epochs - stats.epoch);
  char valid_columns[96] = "";
  if (has_valid)
    std::snprintf(valid_columns, sizeof valid_columns, "  val_loss %.4f  val_%s %.3f%s",
                  stats.valid_loss, multi ? "f1" : "acc", stats.valid_score,
                  stats.best ? "  *best" : "");
  std::fprintf(stderr, "epoch %3d/%d  loss %.4f  acc %.3f%s  lr %.2g  %.1f samples/s  %s  ETA %s\n",
               stats.epoch, p.epochs, stats.train_loss, stats.train_accuracy, valid_columns,
               stats.lr, stats.samples_per_second, clock(stats.seconds).c_str(),
               clock(eta).c_str());
}

// Best-model selection, early stopping and LR-on-plateau after an epoch's validation.
void update_selection(TrainerState& st, EpochStats& stats, Crnn& net, const TrainParams& p,
                      bool has_valid) {
  double best_loss = 1e300;
  for (const auto& h : st.result.history)
    if (h.epoch == st.result.best_epoch) best_loss = h.valid_loss;
  // Ties in score (common on small validation sets) go to the lower validation loss.
  const bool improved =
      !has_valid || stats.valid_score > st.result.best_valid_score ||
      (stats.valid_score == st.result.best_valid_score && stats.valid_loss < best_loss);
  if (improved) {
    stats.best = true;
    st.result.best_valid_score = stats.valid_score;
    st.result.best_epoch = stats.epoch;
    st.best_weights = snapshot(net);
    st.bad_epochs = st.plateau_epochs = 0;
  } else {
    ++st.bad_epochs;
    if (p.lr_patience > 0 && ++st.plateau_epochs >= p.lr_patience) {
      st.lr *= p.lr_factor;
      st.plateau_epochs = 0;
    }
  }
  if (p.average_last > 0 && stats.epoch > p.epochs - p.average_last) {
    WeightMap now = snapshot(net);
    if (st.averaged == 0)
      st.average = now;
    else
      for (std::size_t i = 0; i < now.size(); ++i)
        if (now[i].second.is_floating_point())
          st.average[i]
              .second.mul_(st.averaged / (st.averaged + 1.0))
              .add_(now[i].second / (st.averaged + 1.0));
    ++st.averaged;
  }
}

}  // namespace

int crops_per_epoch(const Example& e, const TrainParams& p, int length, int total_frames) {
  if (length >= total_frames) return 1;
  if (p.crops_per_track > 0) return p.crops_per_track;
  return std::max(1, std::min(e.valid_frames, total_frames) / length / 2);
}

std::vector<float> class_weights(const std::vector<Example>& train_set, const TrainParams& p,
                                 int n_classes, int length, int total_frames) {
  std::vector<float> weight(n_classes, 1.0f);
  if (!p.balance_classes) return weight;
  std::vector<double> counts(n_classes, 0.0);
  double total = 0;
  for (const auto& e : train_set) {
    const int n = p.balance_by_crops ? crops_per_epoch(e, p, length, total_frames) : 1;
    counts[e.labels.at(0)] += n;
    total += n;
  }
  for (int c = 0; c < n_classes; ++c)
    weight[c] = counts[c] > 0
                    ? static_cast<float>(total) / static_cast<float>(n_classes * counts[c])
                    : 0.0f;
  return weight;
}

TrainResult train(Model& model, const std::vector<Example>& train_set,
                  const std::vector<Example>& valid_set, const TrainParams& p,
                  const std::string& resume) {
  check_params(train_set, p);
  torch::set_num_threads(p.threads > 0 ? p.threads : hardware_threads());
  DistributedJob& job = distributed_job();
  const BatchNormSyncGuard sync_batch_norm(job.enabled() ? &job : nullptr);
  const torch::Device device = resolve_device(p.device);
  if (p.amp == "fp16" && !device.is_cuda())
    throw Error(ErrorKind::kInvalidArgument, "",
                "--amp fp16 needs a CUDA device (fp16 autocast is CUDA-only); use --amp bf16 on "
                "the CPU");
  Crnn& net = model.net;
  net->to(device);
  job.broadcast_module(*net);  // every process starts from rank 0's weights

  const ArchConfig& arch = model.info.arch;
  const bool multi = arch.mode == OutputMode::kMultiLabel;
  const int total_frames = train_set[0].logmel->n_frames;
  const int length =
      arch.input_frames > 0 && arch.input_frames < total_frames ? arch.input_frames : total_frames;
  const std::vector<float> class_weight =
      multi ? std::vector<float>(arch.n_classes, 1.0f)
            : class_weights(train_set, p, arch.n_classes, length, total_frames);
  const EpochSetup setup{train_set,
                         p,
                         length,
                         total_frames,
                         arch.n_classes,
                         multi,
                         torch::tensor(class_weight).unsqueeze(0).to(device),
                         device};

  std::vector<double> group_scale;
  torch::optim::Adam optimizer = make_optimizer(net, p, group_scale);
  TrainerState st;
  st.lr = p.lr;
  st.result.best_valid_score = -1;
  if (!resume.empty()) {
    st = load_checkpoint(read_checkpoint(resume, job), resume, net, optimizer, device);
    if (!p.quiet)
      std::fprintf(stderr, "resuming from %s after epoch %d\n", resume.c_str(), st.epoch);
  }
  LossScaler scaler(p.amp == "fp16");
  if (scaler.enabled() && st.loss_scale > 0)
    scaler.restore(st.loss_scale, st.loss_scale_clean_steps);

  bool stop =
      !st.result.history.empty() && p.early_stopping > 0 && st.bad_epochs >= p.early_stopping;
  for (int epoch = st.epoch + 1; epoch <= p.epochs && !stop; ++epoch) {
    const auto t0 = std::chrono::steady_clock::now();
    // `lr` carries plateau reductions; the schedule scales it by the epoch's factor.
    const double epoch_lr = st.lr * schedule_factor(p, epoch);
    set_lr(optimizer, epoch_lr, group_scale);
    // Every epoch draws from generators seeded by (seed, epoch): a resumed run repeats exactly
    // what an uninterrupted one would have done. All processes shuffle alike; each then draws
    // its own augmentation and dropout.
    torch::manual_seed(p.seed * 1000003ull + epoch + 7777777ull * job.rank());
    std::mt19937_64 rng(p.seed * 7919ull + epoch);
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < train_set.size(); ++i)
      order.insert(order.end(), crops_per_epoch(train_set[i], p, length, total_frames), i);
    std::shuffle(order.begin(), order.end(), rng);
    if (job.rank() > 0) rng.seed(p.seed * 7919ull + epoch + 104729ull * job.rank());

    net->train();
    const EpochTotals totals = run_epoch(net, optimizer, setup, order, rng, epoch, job, scaler);
    if (scaler.enabled()) {
      st.loss_scale = scaler.current_scale();
      st.loss_scale_clean_steps = scaler.clean_steps();
    }
    EpochStats stats;
    stats.epoch = epoch;
    stats.train_loss = totals.loss_sum / order.size();
    stats.train_accuracy = totals.correct / order.size();
    stats.lr = epoch_lr;
    stats.world_size = job.world_size();
    stats.global_batch_size = p.batch_size * job.world_size();
    const double train_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    stats.samples_per_second = order.size() / std::max(1e-9, train_seconds);

    const EvalScores valid = evaluate_examples(model, valid_set, p.batch_size, device);
    stats.valid_loss = valid.loss;
    stats.valid_score = valid_set.empty() ? stats.train_accuracy : valid.score;
    update_selection(st, stats, net, p, !valid_set.empty());
    stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    st.result.seconds += stats.seconds;
    st.result.history.push_back(stats);
    st.epoch = epoch;
    stop = p.early_stopping > 0 && st.bad_epochs >= p.early_stopping;

    if (!p.quiet) print_epoch(stats, p, !valid_set.empty(), multi);
    // Only rank 0 writes; the other processes leave both paths empty.
    if (!p.checkpoint.empty()) save_checkpoint(p.checkpoint, net, optimizer, st);
    // Rewritten whole from the history each epoch, so a resumed run's log has no duplicates.
    if (!p.log_jsonl.empty()) write_training_log(p.log_jsonl, st.result.history);
  }

  if (st.averaged > 0)
    restore(net, st.average);
  else if (!st.best_weights.empty())
    restore(net, st.best_weights);
  for (auto& param : net->parameters()) param.set_requires_grad(true);  // as make_model left it
  net->eval();
  return st.result;
}

void write_training_log(const std::string& path, const std::vector<EpochStats>& history) {
  write_file_atomically(path, [&](std::ostream& out) {
    for (const auto& h : history) out << nlohmann::json(h).dump() << "\n";
  });
}

}  // namespace genre
