#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/parallel.h"
#include "common/progress.h"
#include "model/inference.h"
#include "train/augment.h"

namespace genre {

TrainParams train_default_params() { return TrainParams{}; }

namespace {

using WeightMap = std::vector<std::pair<std::string, torch::Tensor>>;

WeightMap snapshot(Crnn& net) {
  WeightMap w;
  for (const auto& p : net->named_parameters()) w.emplace_back(p.key(), p.value().detach().clone());
  for (const auto& b : net->named_buffers()) w.emplace_back(b.key(), b.value().detach().clone());
  return w;
}

void restore(Crnn& net, const WeightMap& w) {
  torch::NoGradGuard no_grad;
  auto params = net->named_parameters();
  auto buffers = net->named_buffers();
  for (const auto& [name, t] : w) {
    if (auto* p = params.find(name))
      p->copy_(t);
    else if (auto* b = buffers.find(name))
      b->copy_(t);
  }
}

void write_weights(torch::serialize::OutputArchive& archive, const WeightMap& w) {
  for (const auto& [name, t] : w) archive.write(name, t.cpu(), /*is_buffer=*/true);
}

WeightMap read_weights(torch::serialize::InputArchive& archive, Crnn& net) {
  WeightMap w = snapshot(net);
  for (auto& [name, t] : w) {
    torch::Tensor loaded;
    archive.read(name, loaded, /*is_buffer=*/true);
    t = loaded.to(t.device());
  }
  return w;
}

// What the schedule multiplies the LR by in an epoch (1-based): 1 throughout for "constant".
double schedule_factor(const TrainParams& p, int epoch) {
  if (p.lr_schedule == "cosine")
    return 0.5 * (1.0 + std::cos(M_PI * (epoch - 1) / std::max(1, p.epochs)));
  return 1.0;
}

void set_lr(torch::optim::Adam& optimizer, double lr) {
  for (auto& group : optimizer.param_groups())
    static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
}

std::string clock(double seconds) {
  char buf[32];
  const int s = static_cast<int>(seconds + 0.5);
  std::snprintf(buf, sizeof buf, "%02d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
  return buf;
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
  torch::set_num_threads(p.threads > 0 ? p.threads : hardware_threads());
  const torch::Device device = resolve_device(p.device);
  Crnn& net = model.net;
  net->to(device);

  const ArchConfig& arch = model.info.arch;
  const int C = arch.n_classes;
  const bool multi = arch.mode == OutputMode::kMultiLabel;
  const int total_frames = train_set[0].logmel->n_frames;
  const int length =
      arch.input_frames > 0 && arch.input_frames < total_frames ? arch.input_frames : total_frames;

  const std::vector<float> class_weight =
      multi ? std::vector<float>(C, 1.0f) : class_weights(train_set, p, C, length, total_frames);
  const torch::Tensor weight_row = torch::tensor(class_weight).unsqueeze(0).to(device);

  torch::optim::Adam optimizer(net->parameters(),
                               torch::optim::AdamOptions(p.lr).weight_decay(p.weight_decay));
  TrainResult result;
  int start_epoch = 1, bad_epochs = 0, plateau_epochs = 0, averaged = 0;
  double lr = p.lr;
  result.best_valid_score = -1;
  WeightMap best_weights, average;

  if (!resume.empty()) {
    torch::serialize::InputArchive archive;
    try {
      archive.load_from(resume, torch::kCPU);
      c10::IValue state_value;
      archive.read("state", state_value);
      const nlohmann::json state = nlohmann::json::parse(state_value.toStringRef());
      torch::serialize::InputArchive net_archive, opt_archive;
      archive.read("net", net_archive);
      net->load(net_archive);
      net->to(device);
      archive.read("optimizer", opt_archive);
      optimizer.load(opt_archive);
      start_epoch = state.at("epoch").get<int>() + 1;
      bad_epochs = state.at("bad_epochs");
      plateau_epochs = state.at("plateau_epochs");
      averaged = state.at("averaged");
      lr = state.at("lr");
      result.best_epoch = state.at("best_epoch");
      result.best_valid_score = state.at("best_valid_score");
      result.seconds = state.at("seconds");
      result.history = state.at("history").get<std::vector<EpochStats>>();
      if (state.at("has_best").get<bool>()) {
        torch::serialize::InputArchive a;
        archive.read("best", a);
        best_weights = read_weights(a, net);
      }
      if (averaged > 0) {
        torch::serialize::InputArchive a;
        archive.read("average", a);
        average = read_weights(a, net);
      }
    } catch (const c10::Error& e) {
      // A checkpoint torn by a crash of an older genre (before atomic writes) lands here too.
      const std::string what = e.what();
      throw Error(ErrorKind::kModelFile, resume,
                  "cannot resume: the checkpoint is truncated or corrupt, or not of this model (" +
                      what.substr(0, what.find('\n')) + ")");
    } catch (const nlohmann::json::exception& e) {
      throw Error(ErrorKind::kModelFile, resume, std::string("cannot resume: ") + e.what());
    }
    if (!p.quiet)
      std::fprintf(stderr, "resuming from %s after epoch %d\n", resume.c_str(), start_epoch - 1);
  }

  bool stop = result.history.size() > 0 && p.early_stopping > 0 && bad_epochs >= p.early_stopping;
  for (int epoch = start_epoch; epoch <= p.epochs && !stop; ++epoch) {
    const auto t0 = std::chrono::steady_clock::now();
    // `lr` carries plateau reductions; the schedule scales it by the epoch's factor.
    const double epoch_lr = lr * schedule_factor(p, epoch);
    set_lr(optimizer, epoch_lr);
    // Every epoch draws from generators seeded by (seed, epoch): a resumed run repeats exactly
    // what an uninterrupted one would have done.
    torch::manual_seed(p.seed * 1000003ull + epoch);
    std::mt19937_64 rng(p.seed * 7919ull + epoch);
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < train_set.size(); ++i)
      order.insert(order.end(), crops_per_epoch(train_set[i], p, length, total_frames), i);
    std::shuffle(order.begin(), order.end(), rng);

    net->train();
    double loss_sum = 0;
    int64_t correct = 0;
    Progress progress("epoch " + std::to_string(epoch) + "/" + std::to_string(p.epochs),
                      order.size(), p.quiet ? 0 : -1);
    for (std::size_t start = 0; start < order.size(); start += p.batch_size) {
      std::vector<std::size_t> ids(order.begin() + start,
                                   order.begin() + std::min(order.size(), start + p.batch_size));
      if (ids.size() < 2 && order.size() > 1) continue;  // batch norm needs two or more examples
      Batch batch = make_batch(train_set, ids, length, C, multi, p, rng);
      const torch::Tensor x = batch.x.to(device), target = batch.target.to(device);
      const torch::Tensor logits = net->forward(x);
      torch::Tensor loss;
      if (multi) {
        loss = torch::binary_cross_entropy_with_logits(logits, target);
      } else {
        const torch::Tensor log_probs = torch::log_softmax(logits, 1);
        torch::Tensor per_example;
        if (p.label_smoothing > 0) {
          // Each example keeps its label's class weight; the smoothed target spreads its mass.
          const torch::Tensor example_weight = (target * weight_row).sum(1);
          const torch::Tensor smoothed = target * (1 - p.label_smoothing) + p.label_smoothing / C;
          per_example = -example_weight * (smoothed * log_probs).sum(1);
        } else {
          per_example = -(target * weight_row * log_probs).sum(1);
        }
        loss = per_example.mean();
      }
      optimizer.zero_grad();
      loss.backward();
      optimizer.step();
      loss_sum += loss.item<double>() * ids.size();
      correct += logits.argmax(1).cpu().eq(batch.primary).sum().item<int64_t>();
      progress.tick(ids.size());
    }
    progress.finish();

    EpochStats stats;
    stats.epoch = epoch;
    stats.train_loss = loss_sum / order.size();
    stats.train_accuracy = static_cast<double>(correct) / order.size();
    stats.lr = epoch_lr;
    const double train_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    stats.samples_per_second = order.size() / std::max(1e-9, train_seconds);

    const EvalScores valid = evaluate_examples(model, valid_set, p.batch_size, device);
    stats.valid_loss = valid.loss;
    stats.valid_score = valid_set.empty() ? stats.train_accuracy : valid.score;
    double best_loss = 1e300;
    for (const auto& h : result.history)
      if (h.epoch == result.best_epoch) best_loss = h.valid_loss;
    // Ties in score (common on small validation sets) go to the lower validation loss.
    const bool improved =
        valid_set.empty() || stats.valid_score > result.best_valid_score ||
        (stats.valid_score == result.best_valid_score && stats.valid_loss < best_loss);
    if (improved) {
      stats.best = true;
      result.best_valid_score = stats.valid_score;
      result.best_epoch = epoch;
      best_weights = snapshot(net);
      bad_epochs = plateau_epochs = 0;
    } else {
      ++bad_epochs;
      if (p.lr_patience > 0 && ++plateau_epochs >= p.lr_patience) {
        lr *= p.lr_factor;
        plateau_epochs = 0;
      }
    }
    if (p.average_last > 0 && epoch > p.epochs - p.average_last) {
      WeightMap now = snapshot(net);
      if (averaged == 0)
        average = now;
      else
        for (std::size_t i = 0; i < now.size(); ++i)
          if (now[i].second.is_floating_point())
            average[i]
                .second.mul_(averaged / (averaged + 1.0))
                .add_(now[i].second / (averaged + 1.0));
      ++averaged;
    }
    stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    result.seconds += stats.seconds;
    result.history.push_back(stats);
    stop = p.early_stopping > 0 && bad_epochs >= p.early_stopping;

    if (!p.quiet) {
      const double eta = stats.seconds * (p.epochs - epoch);
      char valid_columns[96] = "";
      if (!valid_set.empty())
        std::snprintf(valid_columns, sizeof valid_columns, "  val_loss %.4f  val_%s %.3f%s",
                      stats.valid_loss, multi ? "f1" : "acc", stats.valid_score,
                      stats.best ? "  *best" : "");
      std::fprintf(stderr,
                   "epoch %3d/%d  loss %.4f  acc %.3f%s  lr %.2g  %.1f samples/s  %s  ETA %s\n",
                   epoch, p.epochs, stats.train_loss, stats.train_accuracy, valid_columns, stats.lr,
                   stats.samples_per_second, clock(stats.seconds).c_str(), clock(eta).c_str());
    }
    if (!p.checkpoint.empty()) {
      const nlohmann::json state = {{"epoch", epoch},
                                    {"bad_epochs", bad_epochs},
                                    {"plateau_epochs", plateau_epochs},
                                    {"averaged", averaged},
                                    {"lr", lr},
                                    {"best_epoch", result.best_epoch},
                                    {"best_valid_score", result.best_valid_score},
                                    {"seconds", result.seconds},
                                    {"history", result.history},
                                    {"has_best", !best_weights.empty()}};
      torch::serialize::OutputArchive archive, net_archive, opt_archive, best_archive, avg_archive;
      archive.write("state", c10::IValue(state.dump()));
      net->save(net_archive);
      archive.write("net", net_archive);
      optimizer.save(opt_archive);
      archive.write("optimizer", opt_archive);
      if (!best_weights.empty()) {
        write_weights(best_archive, best_weights);
        archive.write("best", best_archive);
      }
      if (averaged > 0) {
        write_weights(avg_archive, average);
        archive.write("average", avg_archive);
      }
      write_file_atomically(p.checkpoint, [&](std::ostream& out) { archive.save_to(out); });
    }
    if (!p.log_jsonl.empty()) {
      // Rewritten whole from the history each epoch, so a resumed run's log has no duplicates.
      write_training_log(p.log_jsonl, result.history);
    }
  }

  if (averaged > 0)
    restore(net, average);
  else if (!best_weights.empty())
    restore(net, best_weights);
  net->eval();
  return result;
}

}  // namespace genre

namespace genre {

void write_training_log(const std::string& path, const std::vector<EpochStats>& history) {
  write_file_atomically(path, [&](std::ostream& out) {
    for (const auto& h : history) out << nlohmann::json(h).dump() << "\n";
  });
}

}  // namespace genre
