#include "model/keras_import.h"

#include <hdf5.h>

#include <filesystem>
#include <fstream>

#include "common/error.h"

namespace genre {

const std::vector<std::string>& choi_msd_tags() {
  static const std::vector<std::string> tags = {"rock",
                                                "pop",
                                                "alternative",
                                                "indie",
                                                "electronic",
                                                "female vocalists",
                                                "dance",
                                                "00s",
                                                "alternative rock",
                                                "jazz",
                                                "beautiful",
                                                "metal",
                                                "chillout",
                                                "male vocalists",
                                                "classic rock",
                                                "soul",
                                                "indie rock",
                                                "Mellow",
                                                "electronica",
                                                "80s",
                                                "folk",
                                                "90s",
                                                "chill",
                                                "instrumental",
                                                "punk",
                                                "oldies",
                                                "blues",
                                                "hard rock",
                                                "ambient",
                                                "acoustic",
                                                "experimental",
                                                "female vocalist",
                                                "guitar",
                                                "Hip-Hop",
                                                "70s",
                                                "party",
                                                "country",
                                                "easy listening",
                                                "sexy",
                                                "catchy",
                                                "funk",
                                                "electro",
                                                "heavy metal",
                                                "Progressive rock",
                                                "60s",
                                                "rnb",
                                                "indie pop",
                                                "sad",
                                                "House",
                                                "happy"};
  return tags;
}

ArchConfig choi_crnn_arch() {
  ArchConfig a;
  a.n_mels = 96;
  a.n_classes = 50;
  a.mode = OutputMode::kMultiLabel;
  a.input_norm = "time";  // bn_0_freq normalises per (padded) time frame, despite its name
  a.pad_time_to = 1440;   // 37 zero frames before and after 1366
  a.channels = {64, 128, 128, 128};
  a.pools = {{2, 2}, {3, 3}, {4, 4}, {4, 4}};
  a.bn_eps = 1e-3;
  a.conv_dropout = 0.1;
  a.gru_layers = 2;
  a.gru_hidden = 32;
  a.gru_type = "keras1";
  a.final_dropout = 0.3;
  a.input_frames = 0;
  return a;
}

FeatureConfig choi_crnn_features() {
  FeatureConfig f = feature_default_params();
  f.pad_mode = "reflect";  // librosa < 0.10 padded STFT frames by reflection
  f.db_multiplier = 20.0;  // dB of the squared mel power, clipped 80 dB below the peak
  return f;
}

namespace {

struct H5File {
  hid_t id = -1;
  ~H5File() {
    if (id >= 0) H5Fclose(id);
  }
};

// Silences HDF5's own error printing; genre reports the errors itself.
struct QuietHdf5 {
  H5E_auto2_t func = nullptr;
  void* data = nullptr;
  QuietHdf5() {
    H5Eget_auto2(H5E_DEFAULT, &func, &data);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~QuietHdf5() { H5Eset_auto2(H5E_DEFAULT, func, data); }
};

bool has_dataset(hid_t file, const std::string& name) {
  // Check each path component: H5Lexists fails on a missing intermediate group.
  std::string prefix;
  std::size_t pos = 0;
  while (pos != std::string::npos) {
    pos = name.find('/', pos + 1);
    prefix = name.substr(0, pos);
    if (H5Lexists(file, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
  }
  return true;
}

torch::Tensor read_dataset(hid_t file, const std::string& path, const std::string& name,
                           const std::vector<int64_t>& shape) {
  if (!has_dataset(file, name))
    throw Error(ErrorKind::kModelFile, path, "missing dataset '" + name + "'");
  const hid_t ds = H5Dopen2(file, name.c_str(), H5P_DEFAULT);
  if (ds < 0) throw Error(ErrorKind::kModelFile, path, "'" + name + "' is not a dataset");
  const hid_t space = H5Dget_space(ds);
  const int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> dims(std::max(rank, 0));
  if (rank > 0) H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  H5Sclose(space);
  std::vector<int64_t> got(dims.begin(), dims.end());
  if (got != shape) {
    H5Dclose(ds);
    auto str = [](const std::vector<int64_t>& v) {
      std::string s = "(";
      for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
      return s + ")";
    };
    throw Error(ErrorKind::kModelFile, path,
                "dataset '" + name + "' has shape " + str(got) + ", expected " + str(shape));
  }
  torch::Tensor t = torch::empty(shape, torch::kFloat);
  const herr_t status =
      H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data_ptr<float>());
  H5Dclose(ds);
  if (status < 0) throw Error(ErrorKind::kModelFile, path, "cannot read dataset '" + name + "'");
  return t;
}

}  // namespace

Model import_keras_crnn(const std::string& h5_path, const std::string& backend_arg) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(h5_path, ec))
    throw Error(ErrorKind::kNotFound, h5_path, "no such file");
  QuietHdf5 quiet;
  if (H5Fis_hdf5(h5_path.c_str()) <= 0)
    throw Error(ErrorKind::kModelFile, h5_path, "not an HDF5 file");
  H5File file;
  file.id = H5Fopen(h5_path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file.id < 0)
    throw Error(ErrorKind::kModelFile, h5_path, "cannot open HDF5 file (truncated or corrupt?)");

  std::string backend = backend_arg;
  if (backend == "auto") {
    if (has_dataset(file.id, "conv1/conv1_W"))
      backend = "theano";
    else if (has_dataset(file.id, "conv1/conv1_W_1:0"))
      backend = "tensorflow";
    else
      throw Error(ErrorKind::kModelFile, h5_path,
                  "not MusicTaggerCRNN weights: no dataset 'conv1/conv1_W' (theano) or "
                  "'conv1/conv1_W_1:0' (tensorflow)");
  } else if (backend != "theano" && backend != "tensorflow") {
    throw Error(ErrorKind::kInvalidArgument, "", "--backend must be theano, tensorflow or auto");
  }
  const bool tf = backend == "tensorflow";
  // Dataset names: theano "<layer>/<layer>_<w>"; tensorflow adds "_1:0" (":0" for the GRUs).
  auto name = [&](const std::string& layer, const std::string& w) {
    const bool gru = layer.rfind("gru", 0) == 0;
    return layer + "/" + layer + "_" + w + (tf ? (gru ? ":0" : "_1:0") : "");
  };
  auto read = [&](const std::string& layer, const std::string& w,
                  const std::vector<int64_t>& shape) {
    return read_dataset(file.id, h5_path, name(layer, w), shape);
  };

  ModelInfo info;
  info.arch = choi_crnn_arch();
  info.features = choi_crnn_features();
  info.classes = choi_msd_tags();
  info.provenance = {{"origin",
                      "Keunwoo Choi, music-auto_tagging-keras: MusicTaggerCRNN trained on the "
                      "Million Song Dataset (50 last.fm tags)"},
                     {"paper",
                      "Choi, Fazekas, Sandler, Cho: Convolutional Recurrent Neural Networks for "
                      "Music Classification, arXiv:1609.04243"},
                     {"licence", "MIT"},
                     {"copyright", "Copyright (c) 2016 Keunwoo Choi"},
                     {"imported_from", std::filesystem::path(h5_path).filename().string()},
                     {"backend", backend}};
  // The licence requires its notice to travel with copies of the weights.
  const auto licence_file = std::filesystem::path(h5_path).parent_path() / "LICENSE.md";
  if (std::filesystem::is_regular_file(licence_file, ec)) {
    std::ifstream in(licence_file);
    info.provenance["licence_text"] = std::string(std::istreambuf_iterator<char>(in), {});
  }
  info.training = {{"source", "imported Keras weights"},
                   {"data", "Million Song Dataset, 29.1 s previews"}};
  Model model = make_model(info);
  Crnn& net = model.net;

  torch::NoGradGuard no_grad;
  auto set_bn = [&](torch::nn::BatchNorm2d& bn, const std::string& layer, int64_t n) {
    bn->weight.copy_(read(layer, "gamma", {n}));
    bn->bias.copy_(read(layer, "beta", {n}));
    bn->running_mean.copy_(read(layer, "running_mean", {n}));
    // Keras 1.1-1.2 used the stored "running_std" as a variance: copy it as is.
    bn->running_var.copy_(read(layer, "running_std", {n}));
  };
  set_bn(net->input_bn, "bn_0_freq", info.arch.pad_time_to);
  int64_t in_channels = 1;
  for (std::size_t k = 0; k < info.arch.channels.size(); ++k) {
    auto block = net->blocks[k]->as<ConvBlock>();
    const int64_t out_channels = info.arch.channels[k];
    const std::string idx = std::to_string(k + 1);
    torch::Tensor w = read("conv" + idx, "W", {out_channels, in_channels, 3, 3});
    if (!tf) w = w.flip({2, 3});  // Theano stores true-convolution kernels
    block->conv->weight.copy_(w);
    block->conv->bias.copy_(read("conv" + idx, "b", {out_channels}));
    set_bn(block->bn, "bn" + idx, out_channels);
    in_channels = out_channels;
  }
  int64_t gru_in = in_channels;
  for (int l = 0; l < info.arch.gru_layers; ++l) {
    auto gru = net->keras_grus[l]->as<Keras1Gru>();
    const std::string layer = "gru" + std::to_string(l + 1);
    const int64_t H = info.arch.gru_hidden;
    gru->W.copy_(torch::cat({read(layer, "W_z", {gru_in, H}), read(layer, "W_r", {gru_in, H}),
                             read(layer, "W_h", {gru_in, H})},
                            1));
    gru->U.copy_(torch::cat(
        {read(layer, "U_z", {H, H}), read(layer, "U_r", {H, H}), read(layer, "U_h", {H, H})}, 1));
    gru->b.copy_(
        torch::cat({read(layer, "b_z", {H}), read(layer, "b_r", {H}), read(layer, "b_h", {H})}));
    gru_in = H;
  }
  net->output->weight.copy_(read("output", "W", {info.arch.gru_hidden, 50}).t());
  net->output->bias.copy_(read("output", "b", {50}));
  net->eval();
  return model;
}

}  // namespace genre
