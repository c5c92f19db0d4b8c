#include "model/model_file.h"

#include <torch/serialize.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/atomic_file.h"
#include "common/error.h"
#include "model/archive_check.h"

namespace genre {

namespace {

constexpr const char* kMetadataKey = "genre_model";
constexpr const char* kFormatName = "genre-model";

// LibTorch's messages carry a C++ backtrace after the first line.
std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

void check_zip_header(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    throw Error(ErrorKind::kNotFound, path, "no such model file");
  if (std::filesystem::is_directory(path, ec))
    throw Error(ErrorKind::kModelFile, path, "is a directory, not a model file");
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  in.read(magic, 4);
  if (!in || std::string(magic, 4) != std::string("PK\x03\x04", 4))
    throw Error(ErrorKind::kModelFile, path,
                "not a genre model file (it is not a LibTorch archive)");
}

torch::serialize::InputArchive open_archive(const std::string& path) {
  check_zip_header(path);
  check_model_archive(path);  // lengths LibTorch would allocate before checking them
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path, torch::kCPU);
  } catch (const std::exception& e) {
    throw Error(ErrorKind::kModelFile, path,
                std::string("truncated or corrupt model file (") + first_line(e.what()) + ")");
  }
  return archive;
}

nlohmann::json read_metadata(torch::serialize::InputArchive& archive, const std::string& path) {
  c10::IValue value;
  bool found = false;
  try {
    found = archive.try_read(kMetadataKey, value);
  } catch (const std::exception& e) {
    throw Error(ErrorKind::kModelFile, path,
                std::string("corrupt model file (") + first_line(e.what()) + ")");
  }
  if (!found || !value.isString())
    throw Error(ErrorKind::kModelFile, path,
                "not a genre model file (no genre metadata; a plain PyTorch/LibTorch file?)");
  nlohmann::json meta;
  try {
    meta = nlohmann::json::parse(value.toStringRef());
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorKind::kModelFile, path,
                std::string("metadata is not valid JSON: ") + e.what());
  }
  if (meta.value("format", std::string()) != kFormatName)
    throw Error(ErrorKind::kModelFile, path, "not a genre model file (wrong format tag)");
  if (meta.value("version", 0) > kModelFileVersion)
    throw Error(ErrorKind::kModelFile, path,
                "model file version " + std::to_string(meta.value("version", 0)) +
                    " is newer than this genre understands (" + std::to_string(kModelFileVersion) +
                    ")");
  return meta;
}

ModelInfo info_from_metadata(const nlohmann::json& meta, const std::string& path) {
  ModelInfo info;
  try {
    info.arch = meta.at("arch").get<ArchConfig>();
    info.features = meta.at("features").get<FeatureConfig>();
    info.classes = meta.at("classes").get<std::vector<std::string>>();
    info.training = meta.value("training", nlohmann::json::object());
    info.provenance = meta.value("provenance", nlohmann::json::object());
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorKind::kModelFile, path, std::string("bad metadata: ") + e.what());
  } catch (const Error& e) {
    throw Error(ErrorKind::kModelFile, path, e.reason());
  }
  if (static_cast<int>(info.classes.size()) != info.arch.n_classes)
    throw Error(ErrorKind::kModelFile, path,
                "class count mismatch: " + std::to_string(info.classes.size()) + " names for " +
                    std::to_string(info.arch.n_classes) + " outputs");
  if (info.features.n_mels != info.arch.n_mels)
    throw Error(ErrorKind::kModelFile, path, "feature config and architecture disagree on n_mels");
  return info;
}

}  // namespace

nlohmann::json model_metadata(const ModelInfo& info) {
  return {
      {"format", kFormatName},        {"version", kModelFileVersion}, {"arch", info.arch},
      {"features", info.features},    {"classes", info.classes},      {"training", info.training},
      {"provenance", info.provenance}};
}

Model make_model(const ModelInfo& info) {
  if (static_cast<int>(info.classes.size()) != info.arch.n_classes)
    throw Error(ErrorKind::kInvalidArgument, "", "class names do not match arch.n_classes");
  Model m;
  m.info = info;
  m.net = Crnn(info.arch);
  return m;
}

void save_model(const std::string& path, const Model& model) {
  torch::serialize::OutputArchive archive;
  archive.write(kMetadataKey, c10::IValue(model_metadata(model.info).dump()));
  torch::serialize::OutputArchive net_archive;
  Crnn net = model.net;
  net->save(net_archive);
  archive.write("net", net_archive);
  write_file_atomically(path, [&](std::ostream& out) { archive.save_to(out); });
}

Model load_model(const std::string& path, torch::Device device) {
  torch::serialize::InputArchive archive = open_archive(path);
  Model m;
  m.info = info_from_metadata(read_metadata(archive, path), path);
  m.net = Crnn(m.info.arch);
  // LibTorch's loader replaces tensors whatever their shape, so check the shapes ourselves.
  std::vector<std::pair<std::string, std::vector<int64_t>>> expected;
  for (const auto& p : m.net->named_parameters())
    expected.emplace_back(p.key(), p.value().sizes().vec());
  for (const auto& b : m.net->named_buffers())
    expected.emplace_back(b.key(), b.value().sizes().vec());
  try {
    torch::serialize::InputArchive net_archive;
    archive.read("net", net_archive);
    m.net->load(net_archive);
  } catch (const std::exception& e) {
    throw Error(ErrorKind::kModelFile, path,
                "weights do not match the stored architecture (" + first_line(e.what()) + ")");
  }
  auto params = m.net->named_parameters();
  auto buffers = m.net->named_buffers();
  for (const auto& [name, shape] : expected) {
    const torch::Tensor* t = params.find(name);
    if (!t) t = buffers.find(name);
    if (!t || t->sizes().vec() != shape)
      throw Error(ErrorKind::kModelFile, path,
                  "weight '" + name + "' does not match the stored architecture");
  }
  m.net->to(device);
  m.net->eval();
  return m;
}

nlohmann::json read_model_metadata(const std::string& path) {
  torch::serialize::InputArchive archive = open_archive(path);
  return read_metadata(archive, path);
}

void export_state_dict(const Model& model, const std::string& path) {
  c10::Dict<std::string, at::Tensor> dict;
  for (const auto& p : model.net->named_parameters())
    dict.insert(p.key(), p.value().detach().cpu());
  for (const auto& b : model.net->named_buffers()) dict.insert(b.key(), b.value().detach().cpu());
  const std::vector<char> bytes = torch::pickle_save(c10::IValue(dict));
  write_file_atomically(path, [&](std::ostream& out) {
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  });
}

void copy_weights(Crnn& to, const Crnn& from) {
  torch::NoGradGuard no_grad;
  auto src_params = from->named_parameters();
  for (auto& p : to->named_parameters()) p.value().copy_(src_params[p.key()]);
  auto src_buffers = from->named_buffers();
  for (auto& b : to->named_buffers()) b.value().copy_(src_buffers[b.key()]);
}

}  // namespace genre

namespace genre {

int transfer_weights(Model& to, const Model& from, bool freeze_conv) {
  torch::NoGradGuard no_grad;
  int copied = 0;
  auto src_params = from.net->named_parameters();
  auto src_buffers = from.net->named_buffers();
  for (auto& p : to.net->named_parameters()) {
    const auto* s = src_params.find(p.key());
    if (s && s->sizes() == p.value().sizes()) p.value().copy_(*s), ++copied;
  }
  for (auto& b : to.net->named_buffers()) {
    const auto* s = src_buffers.find(b.key());
    if (s && s->sizes() == b.value().sizes()) b.value().copy_(*s), ++copied;
  }
  if (freeze_conv) {
    for (auto& p : to.net->named_parameters())
      if (p.key().rfind("blocks.", 0) == 0 || p.key().rfind("input_bn.", 0) == 0)
        p.value().set_requires_grad(false);
  }
  return copied;
}

}  // namespace genre
