// Model files: round trip, and clear errors for truncated, foreign and inconsistent files.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/error.h"
#include "model/model_file.h"
#include "support/test_support.h"

namespace genre {
namespace {

ModelInfo small_info() {
  ModelInfo info;
  info.arch.channels = {4, 4, 4, 4, 4};
  info.arch.n_classes = 3;
  info.classes = {"a", "b", "c"};
  info.training = {{"note", "test"}};
  return info;
}

ErrorKind kind_of(const std::function<void()>& f) {
  return static_cast<ErrorKind>(test::error_kind_of(f));
}

TEST(ModelFile, RoundTripKeepsWeightsAndMetadata) {
  test::TempDir dir;
  torch::manual_seed(1);
  Model m = make_model(small_info());
  m.net->eval();
  save_model(dir.file("m.pt"), m);
  Model back = load_model(dir.file("m.pt"));
  EXPECT_EQ(back.info.classes, m.info.classes);
  EXPECT_EQ(back.info.features, m.info.features);
  EXPECT_EQ(back.info.training["note"], "test");
  const auto x = torch::randn({2, 1, 96, 200});
  EXPECT_TRUE(torch::allclose(m.net->forward(x), back.net->forward(x)));
  EXPECT_EQ(read_model_metadata(dir.file("m.pt"))["format"], "genre-model");
}

TEST(ModelFile, Errors) {
  test::TempDir dir;
  Model m = make_model(small_info());
  save_model(dir.file("m.pt"), m);
  EXPECT_EQ(kind_of([&] { load_model(dir.file("missing.pt")); }), ErrorKind::kNotFound);

  // Truncated.
  std::filesystem::copy_file(dir.file("m.pt"), dir.file("cut.pt"));
  std::filesystem::resize_file(dir.file("cut.pt"),
                               std::filesystem::file_size(dir.file("m.pt")) / 2);
  EXPECT_EQ(kind_of([&] { load_model(dir.file("cut.pt")); }), ErrorKind::kModelFile);

  // Wrong magic.
  test::write_bytes(dir.file("text.pt"), "definitely not a model");
  EXPECT_EQ(kind_of([&] { load_model(dir.file("text.pt")); }), ErrorKind::kModelFile);

  // A LibTorch archive that is not a genre model.
  torch::save(torch::ones({3}), dir.file("tensor.pt"));
  EXPECT_EQ(kind_of([&] { load_model(dir.file("tensor.pt")); }), ErrorKind::kModelFile);

  // Metadata whose class count does not match the output layer.
  ModelInfo bad = small_info();
  Model ok = make_model(bad);
  ok.info.classes.push_back("d");
  save_model(dir.file("mismatch.pt"), ok);
  EXPECT_EQ(kind_of([&] { load_model(dir.file("mismatch.pt")); }), ErrorKind::kModelFile);

  // Weights that do not fit the stored architecture.
  Model other = make_model(small_info());
  other.info.arch.channels = {8, 8, 8, 8, 8};
  save_model(dir.file("weights.pt"), other);
  EXPECT_EQ(kind_of([&] { load_model(dir.file("weights.pt")); }), ErrorKind::kModelFile);
}

TEST(ModelFile, ExportStateDictReadableByPython) {
  test::TempDir dir;
  Model m = make_model(small_info());
  export_state_dict(m, dir.file("sd.pt"));
  ASSERT_TRUE(std::filesystem::file_size(dir.file("sd.pt")) > 1000);
  if (test::run_command("/usr/bin/python3 -c 'import torch' 2>/dev/null") != 0)
    GTEST_SKIP() << "python3-torch not installed: skipping the Python side";
  std::string out, err;
  const int code = test::run_command(
      "/usr/bin/python3 -c \"import torch; d = torch.load('" + dir.file("sd.pt") +
          "'); print(len(d), tuple(d['output.weight'].shape), float(d['output.bias'].sum()))\"",
      &out, &err);
  ASSERT_EQ(code, 0) << err;
  int64_t expected = m.net->named_parameters().size() + m.net->named_buffers().size();
  EXPECT_EQ(out.substr(0, out.find(' ')), std::to_string(expected)) << out;
  EXPECT_NE(out.find("(3, 32)"), std::string::npos) << out;
}

TEST(ModelFile, TransferWeightsSkipsTheOutputLayer) {
  torch::manual_seed(2);
  Model from = make_model(small_info());
  ModelInfo info = small_info();
  info.arch.n_classes = 5;
  info.classes = {"v", "w", "x", "y", "z"};
  Model to = make_model(info);
  transfer_weights(to, from, /*freeze_conv=*/true);
  EXPECT_TRUE(torch::equal(to.net->blocks[0]->as<ConvBlock>()->conv->weight,
                           from.net->blocks[0]->as<ConvBlock>()->conv->weight));
  EXPECT_FALSE(to.net->blocks[0]->as<ConvBlock>()->conv->weight.requires_grad());
  EXPECT_TRUE(to.net->output->weight.requires_grad());
  EXPECT_EQ(to.net->output->weight.size(0), 5);
}

}  // namespace
}  // namespace genre
