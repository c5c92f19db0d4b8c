// Choi's MusicTaggerCRNN imported from its Keras HDF5 weights reproduces the published outputs.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "features/npy.h"
#include "model/inference.h"
#include "model/keras_import.h"
#include "support/test_support.h"

namespace genre {
namespace {

const char* kExamples[] = {"bensound-cute", "bensound-actionable", "bensound-dubstep",
                           "bensound-thejazzpiano"};

TEST(KerasImport, ReproducesPublishedProbabilitiesExactly) {
  GENRE_REQUIRE_SHARED();
  const std::string choi = test::shared_dir() + "/choi";
  std::ifstream in(choi + "/expected.json");
  const auto expected = nlohmann::json::parse(in);
  ASSERT_EQ(expected["tags"].get<std::vector<std::string>>(), choi_msd_tags());
  double worst = 0;
  for (const std::string backend : {"theano", "tensorflow"}) {
    Model model = import_keras_crnn(choi + "/music_tagger_crnn_weights_" + backend + ".h5", "auto");
    EXPECT_EQ(model.info.provenance["backend"], backend);
    for (const char* name : kExamples) {
      SCOPED_TRACE(backend + std::string(" ") + name);
      const Spectrogram s = spectrogram_from_npy(choi + "/" + name + ".npy");
      ASSERT_EQ(s.n_frames, 1366);
      const torch::Tensor p = track_probabilities(model, {&s}, {}, 1, torch::kCPU)[0];
      const auto& ex = expected["examples"][name];
      const auto want = ex["probabilities"].get<std::vector<double>>();
      for (int c = 0; c < 50; ++c) {
        worst = std::max(worst, std::abs(p[c].item<double>() - want[c]));
        EXPECT_NEAR(p[c].item<double>(), want[c], 1e-5) << choi_msd_tags()[c];
      }
      // The published top 10, in order (ties excepted: they are equal to 3 decimals).
      const auto order = std::get<1>(p.sort(0, true));
      int k = 0;
      for (const auto& pair : ex["top10"]) {
        const std::string tag = pair[0];
        const double want_p = pair[1];
        const std::string got = choi_msd_tags()[order[k].item<int64_t>()];
        if (got != tag) {
          EXPECT_NEAR(p[order[k].item<int64_t>()].item<double>(), want_p, 1e-5) << k;
        }
        ++k;
      }
    }
  }
  std::printf("keras import: worst |p - expected| = %.3g over 2 x 4 x 50 probabilities\n", worst);
}

void write_h5(const std::string& path, const std::string& dataset,
              const std::vector<hsize_t>& dims) {
  const hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  hid_t parent = f;
  const auto slash = dataset.find('/');
  if (slash != std::string::npos)
    parent = H5Gcreate2(f, dataset.substr(0, slash).c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  const hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
  const hid_t ds =
      H5Dcreate2(parent, dataset.substr(slash == std::string::npos ? 0 : slash + 1).c_str(),
                 H5T_NATIVE_FLOAT, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  std::size_t n = 1;
  for (auto d : dims) n *= d;
  std::vector<float> zeros(n, 0.0f);
  H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, zeros.data());
  H5Dclose(ds);
  H5Sclose(space);
  if (parent != f) H5Gclose(parent);
  H5Fclose(f);
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kModelFile) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no genre::Error";
  return "";
}

TEST(KerasImport, ClearErrors) {
  test::TempDir dir;
  test::write_bytes(dir.file("text.h5"), "not hdf5 at all");
  EXPECT_NE(message_of([&] { import_keras_crnn(dir.file("text.h5")); }).find("not an HDF5 file"),
            std::string::npos);

  write_h5(dir.file("other.h5"), "dense/kernel", {4, 4});
  EXPECT_NE(
      message_of([&] { import_keras_crnn(dir.file("other.h5")); }).find("not MusicTaggerCRNN"),
      std::string::npos);

  // The right first dataset with the wrong shape: the message names the dataset.
  write_h5(dir.file("shape.h5"), "conv1/conv1_W", {32, 1, 3, 3});
  const std::string shape_msg =
      message_of([&] { import_keras_crnn(dir.file("shape.h5"), "theano"); });
  EXPECT_NE(shape_msg.find("missing dataset 'bn_0_freq/bn_0_freq_gamma'"), std::string::npos)
      << shape_msg;

  if (!test::shared_dir().empty()) {
    const std::string real = test::shared_dir() + "/choi/music_tagger_crnn_weights_theano.h5";
    std::filesystem::copy_file(real, dir.file("cut.h5"));
    std::filesystem::resize_file(dir.file("cut.h5"), std::filesystem::file_size(real) / 2);
    const std::string cut = message_of([&] { import_keras_crnn(dir.file("cut.h5")); });
    EXPECT_FALSE(cut.empty());
  }
}

TEST(KerasImport, WrongShapeNamesTheDataset) {
  // A complete file layout would need every dataset; a misshapen first tensor is enough to check
  // that shapes are validated before use.
  test::TempDir dir;
  const hid_t f = H5Fcreate(dir.file("bn.h5").c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  H5Fclose(f);
  write_h5(dir.file("bn.h5"), "bn_0_freq/bn_0_freq_gamma", {1366});
  // Make the backend detectable.
  const hid_t g = H5Fopen(dir.file("bn.h5").c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  const hid_t grp = H5Gcreate2(g, "conv1", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  const hsize_t dims[4] = {64, 1, 3, 3};
  const hid_t space = H5Screate_simple(4, dims, nullptr);
  H5Dclose(
      H5Dcreate2(grp, "conv1_W", H5T_NATIVE_FLOAT, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  H5Sclose(space);
  H5Gclose(grp);
  H5Fclose(g);
  const std::string msg = message_of([&] { import_keras_crnn(dir.file("bn.h5")); });
  EXPECT_NE(msg.find("'bn_0_freq/bn_0_freq_gamma' has shape (1366), expected (1440)"),
            std::string::npos)
      << msg;
}

}  // namespace
}  // namespace genre
