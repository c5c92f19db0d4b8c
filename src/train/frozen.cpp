#include "train/frozen.h"

#include <chrono>
#include <cstdio>
#include <random>

#include "common/error.h"
#include "common/parallel.h"
#include "common/progress.h"
#include "model/inference.h"
#include "train/distributed.h"

namespace genre {

namespace {

// Cached inputs live on the CPU; the head runs wherever the model is (CUDA or CPU).
torch::Tensor head(Model& model, torch::Tensor x, Freeze freeze) {
  x = x.to(model.net->output->weight.device());
  return model.net->classify(freeze == Freeze::kConv ? model.net->recurrent(x) : x);
}

}  // namespace

std::vector<torch::Tensor> frozen_inputs(Model& model, const std::vector<Example>& examples,
                                         Freeze freeze, int batch_size, torch::Device device) {
  torch::InferenceMode guard;
  model.net->eval();
  model.net->to(device);
  const int n_mels = model.info.arch.n_mels;
  std::vector<torch::Tensor> out(examples.size());
  // In a data-parallel job each process runs the frozen part on its share of the examples.
  DistributedJob& job = distributed_job();
  Progress progress("frozen features", examples.size(), examples.size() > 20 ? -1 : 0);
  for (std::size_t i = 0; i < examples.size(); ++i) {
    if (!job.owns(i)) continue;
    const Spectrogram& s = *examples[i].logmel;
    const int total = s.n_frames;
    const int input = model.info.arch.input_frames;
    const int length = input > 0 && input < total ? input : total;
    const auto offsets = crop_offsets(total, examples[i].valid_frames, input);
    std::vector<torch::Tensor> parts;
    for (std::size_t start = 0; start < offsets.size(); start += batch_size) {
      const std::size_t n = std::min<std::size_t>(batch_size, offsets.size() - start);
      torch::Tensor batch = torch::empty({static_cast<int64_t>(n), 1, n_mels, length});
      for (std::size_t b = 0; b < n; ++b)
        copy_crop(s, offsets[start + b], length,
                  batch.data_ptr<float>() + b * static_cast<std::size_t>(n_mels) * length);
      const torch::Tensor input = batch.to(device);
      const torch::Tensor features = freeze == Freeze::kAllButOutput
                                         ? model.net->embed(input)
                                         : model.net->conv_sequence(input);
      parts.push_back(features.to(torch::kCPU));
    }
    out[i] = torch::cat(parts).clone();
    progress.tick(job.world_size());
  }
  progress.finish();
  job.all_gather_owned(out);
  return out;
}

TrainResult train_frozen(Model& model, const std::vector<torch::Tensor>& inputs,
                         const std::vector<Example>& examples, Freeze freeze,
                         const TrainParams& p) {
  if (inputs.empty() || inputs.size() != examples.size())
    throw Error(ErrorKind::kData, "", "frozen training needs one cached input per example");
  torch::set_num_threads(p.threads > 0 ? p.threads : hardware_threads());
  const int C = model.info.arch.n_classes;
  // A transfer model's head standardises its features with the training side's statistics.
  if (model.info.arch.is_transfer()) model.net->fit_standardization(torch::cat(inputs));
  std::vector<torch::Tensor> trainable;
  for (auto& param : model.net->named_parameters()) {
    const bool is_head = is_head_parameter(param.key()) ||
                         (freeze == Freeze::kConv && (param.key().rfind("gru.", 0) == 0 ||
                                                      param.key().rfind("keras_grus.", 0) == 0));
    param.value().set_requires_grad(is_head);
    if (is_head) trainable.push_back(param.value());
  }
  // One sample per example (whole cached excerpts), so tracks and crops count alike.
  const std::vector<float> class_weight =
      class_weights(examples, p, C, /*length=*/1, /*total_frames=*/1);
  const torch::Device device = model.net->output->weight.device();
  const torch::Tensor weights = torch::tensor(class_weight).to(device);
  torch::optim::Adam optimizer(trainable,
                               torch::optim::AdamOptions(p.lr).weight_decay(p.weight_decay));
  TrainResult result;
  const auto start = std::chrono::steady_clock::now();
  for (int epoch = 1; epoch <= p.epochs; ++epoch) {
    torch::manual_seed(p.seed * 1000003ull + epoch);
    std::mt19937_64 rng(p.seed * 7919ull + epoch);
    std::vector<std::size_t> order(examples.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    model.net->train();
    double loss_sum = 0;
    int correct = 0;
    for (std::size_t s = 0; s < order.size(); s += p.batch_size) {
      std::vector<torch::Tensor> xs;
      std::vector<int64_t> ys;
      for (std::size_t k = s; k < std::min(order.size(), s + p.batch_size); ++k) {
        const torch::Tensor& views = inputs[order[k]];
        const int64_t v = std::uniform_int_distribution<int64_t>(0, views.size(0) - 1)(rng);
        xs.push_back(views[v]);
        ys.push_back(examples[order[k]].labels.at(0));
      }
      const torch::Tensor x = torch::stack(xs), y = torch::tensor(ys, torch::kLong).to(device);
      const torch::Tensor logits = head(model, x, freeze);
      const torch::Tensor loss = torch::nn::functional::cross_entropy(
          logits, y, torch::nn::functional::CrossEntropyFuncOptions().weight(weights));
      optimizer.zero_grad();
      loss.backward();
      optimizer.step();
      loss_sum += loss.item<double>() * ys.size();
      correct += logits.argmax(1).eq(y).sum().item<int>();
    }
    EpochStats stats;
    stats.epoch = epoch;
    stats.train_loss = loss_sum / order.size();
    stats.train_accuracy = static_cast<double>(correct) / order.size();
    stats.valid_score = stats.train_accuracy;
    stats.lr = p.lr;
    result.history.push_back(stats);
    if (!p.quiet)
      std::fprintf(stderr, "epoch %3d/%d  loss %.4f  acc %.3f (frozen %s)\n", epoch, p.epochs,
                   stats.train_loss, stats.train_accuracy,
                   freeze == Freeze::kConv ? "conv" : "all but output");
  }
  if (!p.log_jsonl.empty()) write_training_log(p.log_jsonl, result.history);
  for (auto& param : model.net->parameters()) param.set_requires_grad(true);
  // Every process fitted the same head on the same inputs; rank 0's copy is the job's.
  distributed_job().broadcast_module(*model.net);
  model.net->eval();
  result.best_epoch = p.epochs;
  result.best_valid_score = result.history.back().train_accuracy;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

torch::Tensor frozen_probabilities(Model& model, const std::vector<torch::Tensor>& inputs,
                                   Freeze freeze) {
  torch::InferenceMode guard;
  model.net->eval();
  std::vector<torch::Tensor> rows;
  for (const auto& views : inputs) {
    const torch::Tensor logits = head(model, views, freeze);
    const torch::Tensor p = model.info.arch.mode == OutputMode::kMultiLabel
                                ? torch::sigmoid(logits)
                                : torch::softmax(logits, 1);
    rows.push_back(p.mean(0).cpu());
  }
  return torch::stack(rows);
}

}  // namespace genre
