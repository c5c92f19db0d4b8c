// Which model `genre predict` uses without --model: $GENRE_MODEL, else the one installed under
// the binary's prefix (PREFIX/share/genre/models), else a models/ folder beside the binary. Each
// case puts the binary somewhere the source tree's model is not the first candidate and checks
// the path the JSON output names.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "support/test_support.h"

namespace genre {
namespace {

namespace fs = std::filesystem;

const std::string kModel = std::string(GENRE_SOURCE_DIR) + "/models/genre-gtzan.pt";
const std::string kClip = std::string(GENRE_SOURCE_DIR) + "/examples/synth_pop.wav";

// The model path a `genre predict --json` run reports (empty on failure, with the reason logged).
std::string model_used(const std::string& binary, const std::string& env = "env -u GENRE_MODEL") {
  std::string out, err;
  const int status =
      test::run_command(env + " " + binary + " predict -q --json " + kClip, &out, &err);
  if (status != 0) {
    ADD_FAILURE() << binary << " exited " << status << ": " << err;
    return "";
  }
  return nlohmann::json::parse(out)["model"]["path"].get<std::string>();
}

std::string resolved(const fs::path& p) { return fs::weakly_canonical(p).string(); }

class ModelLookup : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kModel)) GTEST_SKIP() << "shipped model missing: " << kModel;
    if (!fs::exists(kClip)) GTEST_SKIP() << "run scripts/make-examples";
  }
  test::TempDir dir;
};

TEST_F(ModelLookup, InstalledBinaryUsesTheModelUnderItsPrefix) {
  const fs::path prefix = dir.file("prefix");
  std::string out, err;
  ASSERT_EQ(test::run_command(std::string(GENRE_CMAKE) + " --install " + GENRE_BUILD_DIR +
                                  " --prefix " + prefix.string(),
                              &out, &err),
            0)
      << out << err;
  const fs::path installed_model = prefix / "share/genre/models/genre-gtzan.pt";
  ASSERT_TRUE(fs::exists(prefix / "bin/genre"));
  ASSERT_TRUE(fs::exists(installed_model));
  EXPECT_TRUE(fs::exists(prefix / "share/genre/models/README.md"));  // the model card travels too
  EXPECT_EQ(model_used((prefix / "bin/genre").string()), resolved(installed_model));
}

TEST_F(ModelLookup, BinaryCopiedBesideAModelsFolder) {
  const fs::path bin = dir.file("portable");
  fs::create_directories(bin / "models");
  fs::copy_file(test::genre_binary(), bin / "genre");
  fs::copy_file(kModel, bin / "models/genre-gtzan.pt");
  EXPECT_EQ(model_used((bin / "genre").string()), resolved(bin / "models/genre-gtzan.pt"));
}

TEST_F(ModelLookup, EnvironmentVariableComesFirst) {
  const fs::path elsewhere = dir.file("my-model.pt");
  fs::copy_file(kModel, elsewhere);
  EXPECT_EQ(model_used(test::genre_binary(), "GENRE_MODEL=" + elsewhere.string()),
            elsewhere.string());
}

}  // namespace
}  // namespace genre
