#include "train/checkpoint.h"

#include <sstream>

#include "common/atomic_file.h"
#include "common/error.h"

namespace genre {

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

namespace {

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

}  // namespace

void save_checkpoint(const std::string& path, Crnn& net, torch::optim::Adam& optimizer,
                     const TrainerState& s) {
  const nlohmann::json state = {{"epoch", s.epoch},
                                {"bad_epochs", s.bad_epochs},
                                {"plateau_epochs", s.plateau_epochs},
                                {"averaged", s.averaged},
                                {"lr", s.lr},
                                {"loss_scale", s.loss_scale},
                                {"loss_scale_clean_steps", s.loss_scale_clean_steps},
                                {"best_epoch", s.result.best_epoch},
                                {"best_valid_score", s.result.best_valid_score},
                                {"seconds", s.result.seconds},
                                {"history", s.result.history},
                                {"has_best", !s.best_weights.empty()}};
  torch::serialize::OutputArchive archive, net_archive, opt_archive, best_archive, avg_archive;
  archive.write("state", c10::IValue(state.dump()));
  net->save(net_archive);
  archive.write("net", net_archive);
  optimizer.save(opt_archive);
  archive.write("optimizer", opt_archive);
  if (!s.best_weights.empty()) {
    write_weights(best_archive, s.best_weights);
    archive.write("best", best_archive);
  }
  if (s.averaged > 0) {
    write_weights(avg_archive, s.average);
    archive.write("average", avg_archive);
  }
  write_file_atomically(path, [&](std::ostream& out) { archive.save_to(out); });
}

TrainerState load_checkpoint(const std::string& bytes, const std::string& path, Crnn& net,
                             torch::optim::Adam& optimizer, torch::Device device) {
  TrainerState s;
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(bytes.data(), bytes.size(), torch::Device(torch::kCPU));
    c10::IValue state_value;
    archive.read("state", state_value);
    const nlohmann::json state = nlohmann::json::parse(state_value.toStringRef());
    torch::serialize::InputArchive net_archive, opt_archive;
    archive.read("net", net_archive);
    net->load(net_archive);
    net->to(device);
    archive.read("optimizer", opt_archive);
    optimizer.load(opt_archive);
    s.epoch = state.at("epoch").get<int>();
    s.bad_epochs = state.at("bad_epochs");
    s.plateau_epochs = state.at("plateau_epochs");
    s.averaged = state.at("averaged");
    s.lr = state.at("lr");
    // Checkpoints from before fp16 training have no scaler state.
    s.loss_scale = state.value("loss_scale", 0.0);
    s.loss_scale_clean_steps = state.value("loss_scale_clean_steps", 0);
    s.result.best_epoch = state.at("best_epoch");
    s.result.best_valid_score = state.at("best_valid_score");
    s.result.seconds = state.at("seconds");
    s.result.history = state.at("history").get<std::vector<EpochStats>>();
    if (state.at("has_best").get<bool>()) {
      torch::serialize::InputArchive a;
      archive.read("best", a);
      s.best_weights = read_weights(a, net);
    }
    if (s.averaged > 0) {
      torch::serialize::InputArchive a;
      archive.read("average", a);
      s.average = read_weights(a, net);
    }
  } catch (const c10::Error& e) {
    // A checkpoint torn by a crash of an older genre (before atomic writes) lands here too.
    const std::string what = e.what();
    throw Error(ErrorKind::kModelFile, path,
                "cannot resume: the checkpoint is truncated or corrupt, or not of this model (" +
                    what.substr(0, what.find('\n')) + ")");
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorKind::kModelFile, path, std::string("cannot resume: ") + e.what());
  }
  return s;
}

}  // namespace genre
