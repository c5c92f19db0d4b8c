#include "train/cross_validation.h"

#include <chrono>
#include <cmath>

#include "common/error.h"
#include "model/inference.h"
#include "train/frozen.h"
#include "train/transfer.h"

namespace genre {

nlohmann::json CvResult::to_json(const std::vector<std::string>& classes) const {
  nlohmann::json folds = nlohmann::json::array();
  for (std::size_t k = 0; k < fold_reports.size(); ++k)
    folds.push_back({{"fold", k},
                     {"accuracy", fold_accuracy[k]},
                     {"tracks", fold_reports[k].total},
                     {"macro_f1", fold_reports[k].macro_f1}});
  nlohmann::json track_list = nlohmann::json::array();
  for (const auto& t : tracks) {
    nlohmann::json probs = nlohmann::json::object();
    for (std::size_t c = 0; c < t.probabilities.size() && c < classes.size(); ++c)
      probs[classes[c]] = t.probabilities[c];
    track_list.push_back({{"id", t.id},
                          {"fold", t.fold},
                          {"label", classes.at(t.label)},
                          {"predicted", classes.at(t.predicted)},
                          {"probabilities", probs}});
  }
  return {{"mean_accuracy", mean_accuracy},
          {"std_accuracy", std_accuracy},
          {"folds", folds},
          {"pooled", report_to_json(pooled)},
          {"independent_crops_accuracy", independent_crops_accuracy},
          {"tracks", track_list},
          {"seconds", seconds}};
}

CvResult cross_validate(const PreparedData& data, const PreparedData* extra, const ModelInfo& base,
                        const CvParams& params, const std::function<void(int, double)>& on_fold) {
  const auto start = std::chrono::steady_clock::now();
  const std::vector<int> fold_of = stratified_folds(data.dataset, params.folds, params.train.seed);
  const std::vector<Example> extra_examples =
      extra ? extra->select(extra->all_indices()) : std::vector<Example>{};
  CvResult result;
  const bool both_policies = shares_conv(base.arch);
  int independent_correct = 0, evaluated = 0;
  // With frozen layers the frozen part is the same in every fold: run it once per track.
  const bool frozen = params.init && (params.freeze_conv || params.linear_probe);
  const Freeze freeze = params.linear_probe ? Freeze::kAllButOutput : Freeze::kConv;
  std::vector<std::size_t> usable;  // data tracks that decoded, in dataset order
  for (std::size_t i = 0; i < data.examples.size(); ++i)
    if (data.examples[i].logmel) usable.push_back(i);
  std::vector<torch::Tensor> data_inputs(data.examples.size()), extra_inputs;
  if (frozen) {
    Model probe = make_model(base);
    transfer_weights(probe, *params.init, false);
    const torch::Device device = resolve_device(params.train.device);
    const auto cached =
        frozen_inputs(probe, data.select(usable), freeze, params.train.batch_size, device);
    for (std::size_t j = 0; j < usable.size(); ++j) data_inputs[usable[j]] = cached[j];
    if (!extra_examples.empty())
      extra_inputs = frozen_inputs(probe, extra_examples, freeze, params.train.batch_size, device);
  }
  for (int k = 0; k < params.folds; ++k) {
    std::vector<std::size_t> train_idx, test_idx;
    for (std::size_t i = 0; i < fold_of.size(); ++i)
      (fold_of[i] == k ? test_idx : train_idx).push_back(i);
    std::vector<Example> train_set = data.select(train_idx);
    train_set.insert(train_set.end(), extra_examples.begin(), extra_examples.end());
    const std::vector<Example> test_set = data.select(test_idx);
    if (test_set.empty())
      throw Error(ErrorKind::kData, "", "fold " + std::to_string(k) + " has no readable track");

    torch::manual_seed(params.train.seed + k);
    Model model = make_model(base);
    if (params.init) {
      transfer_weights(model, *params.init, params.freeze_conv || params.linear_probe);
      if (params.linear_probe)
        for (auto& p : model.net->named_parameters())
          if (!is_head_parameter(p.key())) p.value().set_requires_grad(false);
    }
    TrainParams tp = params.train;
    tp.checkpoint.clear();
    tp.log_jsonl.clear();
    std::vector<int> truth, predicted;
    torch::Tensor probabilities;  // [tracks, classes]
    for (const auto& e : test_set) truth.push_back(e.labels[0]);
    if (frozen) {
      std::vector<torch::Tensor> train_inputs, test_inputs;
      for (auto i : train_idx)
        if (data.examples[i].logmel) train_inputs.push_back(data_inputs[i]);
      train_inputs.insert(train_inputs.end(), extra_inputs.begin(), extra_inputs.end());
      for (auto i : test_idx)
        if (data.examples[i].logmel) test_inputs.push_back(data_inputs[i]);
      if (base.arch.is_transfer() && tp.fine_tune_epochs > 0) {
        // Fine-tuned backbones: the cached features are stale for testing.
        train_transfer(model, train_set, std::move(train_inputs), tp);
        EvalScores scores =
            evaluate_examples(model, test_set, tp.batch_size, resolve_device(tp.device));
        predicted = std::move(scores.predicted);
        probabilities = scores.probabilities;
      } else {
        train_frozen(model, train_inputs, train_set, freeze, tp);
        probabilities = frozen_probabilities(model, test_inputs, freeze);
        for (int64_t i = 0; i < probabilities.size(0); ++i)
          predicted.push_back(static_cast<int>(probabilities[i].argmax().item<int64_t>()));
      }
    } else {
      train(model, train_set, {}, tp);
      const torch::Device device = resolve_device(tp.device);
      EvalScores scores = evaluate_examples(model, test_set, tp.batch_size, device);
      predicted = std::move(scores.predicted);
      probabilities = scores.probabilities;
      if (both_policies) {
        const auto independent =
            evaluate_examples(model, test_set, tp.batch_size, device, CropPolicy::kIndependent);
        for (std::size_t i = 0; i < truth.size(); ++i)
          independent_correct += independent.predicted[i] == truth[i];
        evaluated += static_cast<int>(truth.size());
      }
    }
    const torch::Tensor probs_cpu = probabilities.to(torch::kCPU).to(torch::kFloat32).contiguous();
    std::size_t row = 0;
    for (auto i : test_idx) {
      if (!data.examples[i].logmel) continue;
      CvTrackResult t;
      t.id = data.dataset.tracks[i].id;
      t.fold = k, t.label = truth[row], t.predicted = predicted[row];
      const float* p = probs_cpu[static_cast<int64_t>(row)].data_ptr<float>();
      t.probabilities.assign(p, p + probs_cpu.size(1));
      result.tracks.push_back(std::move(t));
      ++row;
    }
    result.fold_reports.push_back(classification_report(truth, predicted, base.classes));
    result.fold_accuracy.push_back(result.fold_reports.back().accuracy);
    if (on_fold) on_fold(k, result.fold_accuracy.back());
  }
  double sum = 0, sq = 0;
  for (double a : result.fold_accuracy) sum += a;
  result.mean_accuracy = sum / params.folds;
  for (double a : result.fold_accuracy)
    sq += (a - result.mean_accuracy) * (a - result.mean_accuracy);
  result.std_accuracy = std::sqrt(sq / params.folds);  // population std over folds
  result.pooled = pool_reports(result.fold_reports);
  if (evaluated > 0) result.independent_crops_accuracy = double(independent_correct) / evaluated;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace genre
