#include "model/torch_import.h"

#include <torch/csrc/jit/serialization/pickle.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

#include "common/error.h"
#include "features/features.h"

namespace genre {

namespace {

constexpr int kBlocks = 4;
const std::pair<int, int> kPools[kBlocks] = {{2, 2}, {3, 3}, {4, 4}, {4, 4}};

using TensorMap = std::map<std::string, torch::Tensor>;

std::vector<char> read_bytes(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw Error(ErrorKind::kNotFound, path, "no such file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorKind::kUnreadable, path, "cannot open");
  return std::vector<char>(std::istreambuf_iterator<char>(in), {});
}

TensorMap read_state_dict(const std::string& path) {
  const std::vector<char> bytes = read_bytes(path);
  if (bytes.size() < 4 || std::string(bytes.data(), 4) != std::string("PK\x03\x04", 4))
    throw Error(ErrorKind::kModelFile, path,
                "not a zip-format torch.save file (a legacy pre-1.6 .pth?). Convert it with "
                "python3 -c \"import torch; torch.save(torch.load('IN.pth', map_location='cpu'), "
                "'OUT.zip.pth')\"");
  c10::IValue value;
  try {
    value = torch::pickle_load(bytes);
  } catch (const c10::Error& e) {
    throw Error(ErrorKind::kModelFile, path, "truncated or corrupt torch.save file");
  }
  if (!value.isGenericDict())
    throw Error(ErrorKind::kModelFile, path, "does not hold a state_dict (a name -> tensor dict)");
  TensorMap tensors;
  for (const auto& item : value.toGenericDict()) {
    if (!item.key().isString() || !item.value().isTensor())
      throw Error(ErrorKind::kModelFile, path, "state_dict entries must be name -> tensor");
    tensors[item.key().toStringRef()] = item.value().toTensor().to(torch::kFloat32);
  }
  return tensors;
}

// Takes the named tensor out of `tensors`, checking its shape.
torch::Tensor take(TensorMap& tensors, const std::string& path, const std::string& name,
                   const std::vector<int64_t>& shape) {
  auto it = tensors.find(name);
  if (it == tensors.end())
    throw Error(ErrorKind::kModelFile, path, "missing tensor '" + name + "'");
  torch::Tensor t = it->second;
  tensors.erase(it);
  if (t.sizes().vec() != shape)
    throw Error(ErrorKind::kModelFile, path,
                "tensor '" + name + "' has shape " + c10::str(t.sizes()) + ", expected " +
                    c10::str(c10::IntArrayRef(shape)));
  return t;
}

int64_t dim_of(const TensorMap& tensors, const std::string& path, const std::string& name,
               int dim) {
  auto it = tensors.find(name);
  if (it == tensors.end())
    throw Error(ErrorKind::kModelFile, path, "missing tensor '" + name + "'");
  if (it->second.dim() <= dim)
    throw Error(ErrorKind::kModelFile, path, "tensor '" + name + "' has too few dimensions");
  return it->second.size(dim);
}

// The stored window and mel matrix must be the front end genre computes.
void check_front_end(TensorMap& tensors, const std::string& path, const FeatureConfig& f) {
  const torch::Tensor window = take(tensors, path, "spec.spectrogram.window", {f.n_fft});
  const torch::Tensor hann = torch::hann_window(f.n_fft, /*periodic=*/true);
  if ((window - hann).abs().max().item<double>() > 1e-6)
    throw Error(
        ErrorKind::kModelFile, path,
        "spec.spectrogram.window is not a periodic Hann window of " + std::to_string(f.n_fft));
  const torch::Tensor fb = take(tensors, path, "spec.mel_scale.fb", {f.n_fft / 2 + 1, f.n_mels});
  std::vector<float> ours = mel_filterbank(f);
  const torch::Tensor expected =
      torch::from_blob(ours.data(), {f.n_mels, f.n_fft / 2 + 1}, torch::kFloat32).t();
  const double diff = (fb - expected).abs().max().item<double>();
  // The stored matrix is torchaudio's float32 computation (~1e-5 from the exact one).
  if (diff > 5e-5)
    throw Error(ErrorKind::kModelFile, path,
                "spec.mel_scale.fb is not the HTK mel filterbank 0-8 kHz at 16 kHz (max "
                "difference " +
                    std::to_string(diff) + ")");
}

void copy_batch_norm(torch::nn::BatchNorm2d& bn, TensorMap& tensors, const std::string& path,
                     const std::string& prefix, int64_t n) {
  bn->weight.copy_(take(tensors, path, prefix + ".weight", {n}));
  bn->bias.copy_(take(tensors, path, prefix + ".bias", {n}));
  bn->running_mean.copy_(take(tensors, path, prefix + ".running_mean", {n}));
  bn->running_var.copy_(take(tensors, path, prefix + ".running_var", {n}));
  tensors.erase(prefix + ".num_batches_tracked");  // training bookkeeping only
}

ArchConfig arch_from_shapes(const TensorMap& tensors, const std::string& path, int n_tags) {
  ArchConfig arch = arch_default_params();
  arch.n_mels = 96;
  arch.n_classes = n_tags;
  arch.mode = OutputMode::kMultiLabel;
  arch.input_norm = "global";
  arch.activation = "relu";
  arch.channels.clear();
  arch.pools.assign(kPools, kPools + kBlocks);
  for (int k = 1; k <= kBlocks; ++k)
    arch.channels.push_back(
        static_cast<int>(dim_of(tensors, path, "layer" + std::to_string(k) + ".conv.weight", 0)));
  arch.conv_dropout = 0.0;
  arch.gru_type = "torch";
  arch.gru_layers = 2;
  arch.gru_hidden = static_cast<int>(dim_of(tensors, path, "layer5.weight_hh_l0", 1));
  arch.final_dropout = 0.5;  // before the dense layer in training
  arch.bn_eps = 1e-5;
  arch.input_frames = 0;
  try {
    arch.validate();
  } catch (const Error& e) {
    throw Error(ErrorKind::kModelFile, path, e.reason());
  }
  return arch;
}

}  // namespace

FeatureConfig sota_crnn_features() {
  FeatureConfig f = feature_default_params();
  f.sample_rate = 16000;
  f.n_fft = 512;
  f.hop_length = 256;
  f.n_mels = 96;
  f.fmin = 0.0;
  f.fmax = 8000.0;
  f.pad_mode = "reflect";
  f.mel_scale = "htk";
  f.mel_norm = "none";
  f.db_multiplier = 10.0;
  f.amin = 1e-10;
  f.top_db = 0.0;
  f.excerpt_samples = 464000;  // the 29 s excerpts the taggers were trained on
  return f;
}

std::vector<std::string> read_tag_list(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(ErrorKind::kNotFound, path, "cannot open the tag list");
  std::vector<std::string> tags;
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) tags.push_back(line);
  }
  if (tags.empty()) throw Error(ErrorKind::kData, path, "the tag list is empty");
  return tags;
}

Model import_torch_crnn(const std::string& path, const std::vector<std::string>& tags) {
  TensorMap tensors = read_state_dict(path);
  const int64_t n_out = dim_of(tensors, path, "dense.weight", 0);
  if (n_out != static_cast<int64_t>(tags.size()))
    throw Error(ErrorKind::kModelFile, path,
                "the dense layer has " + std::to_string(n_out) + " outputs but " +
                    std::to_string(tags.size()) + " tag names were given");
  ModelInfo info;
  info.features = sota_crnn_features();
  info.arch = arch_from_shapes(tensors, path, static_cast<int>(n_out));
  info.classes = tags;
  info.provenance = {
      {"origin",
       "Minz Won et al., sota-music-tagging-models: CRNN (Choi et al. 2016 family) tagger"},
      {"paper",
       "Won, Ferraro, Bogdanov, Serra: Evaluation of CNN-based automatic music tagging models, "
       "SMC 2020"},
      {"licence", "MIT"},
      {"copyright", "Copyright (c) 2020 Music Technology Group, Universitat Pompeu Fabra"},
      {"licence_text", sota_mit_notice()},
      {"imported_from", std::filesystem::path(path).filename().string()}};
  info.training = {{"source", "imported PyTorch weights (state_dict)"}};
  check_front_end(tensors, path, info.features);

  Model model = make_model(info);
  Crnn& net = model.net;
  torch::NoGradGuard no_grad;
  copy_batch_norm(net->input_bn, tensors, path, "spec_bn", 1);
  int64_t in_channels = 1;
  for (int k = 0; k < kBlocks; ++k) {
    auto block = net->blocks[k]->as<ConvBlock>();
    const int64_t out = info.arch.channels[k];
    const std::string layer = "layer" + std::to_string(k + 1);
    block->conv->weight.copy_(
        take(tensors, path, layer + ".conv.weight", {out, in_channels, 3, 3}));
    block->conv->bias.copy_(take(tensors, path, layer + ".conv.bias", {out}));
    copy_batch_norm(block->bn, tensors, path, layer + ".bn", out);
    in_channels = out;
  }
  const int64_t H = info.arch.gru_hidden;
  for (auto& p : net->gru->named_parameters()) {  // weight_ih_l0, weight_hh_l0, bias_ih_l0, ...
    p.value().copy_(take(tensors, path, "layer5." + p.key(), p.value().sizes().vec()));
  }
  net->output->weight.copy_(take(tensors, path, "dense.weight", {n_out, H}));
  net->output->bias.copy_(take(tensors, path, "dense.bias", {n_out}));
  if (!tensors.empty())
    throw Error(ErrorKind::kModelFile, path,
                "unexpected tensor '" + tensors.begin()->first +
                    "': not the sota CRNN architecture (4 conv blocks, 2-layer GRU, dense)");
  net->eval();
  return model;
}

const char* sota_mit_notice() {
  return R"(MIT License

Copyright (c) 2020 Music Technology Group, Universitat Pompeu Fabra. Code developed by Minz Won.

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
)";
}

}  // namespace genre
