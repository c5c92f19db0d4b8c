// genre as an installed package (docs/library.md): `cmake --install` into a temporary prefix,
// then what a user of the library sees there: the shared library and its SONAME, only the public
// headers (self-contained among themselves), the CMake package used by examples/cpp-consumer,
// and genre.pc used by a plain compiler command.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>

#include "audio/audio.h"
#include "support/test_support.h"

namespace genre {
namespace {

namespace fs = std::filesystem;

const std::string kClip = std::string(GENRE_SOURCE_DIR) + "/examples/noisy_rock.wav";

class InstalledPackage : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kClip)) GTEST_SKIP() << "run scripts/make-examples";
    std::string out, err;
    ASSERT_EQ(test::run_command(std::string(GENRE_CMAKE) + " --install " + GENRE_BUILD_DIR +
                                    " --prefix " + prefix.string(),
                                &out, &err),
              0)
        << out << err;
    for (const char* libdir : {"lib", "lib64", "lib/x86_64-linux-gnu"})
      if (fs::exists(prefix / libdir / "libgenre.so")) lib = prefix / libdir;
    ASSERT_FALSE(lib.empty()) << "no libgenre.so under " << prefix;
  }
  // Runs a command, failing the test with its output when it exits non-zero.
  std::string run(const std::string& command) {
    std::string out, err;
    const int status = test::run_command(command, &out, &err);
    EXPECT_EQ(status, 0) << command << "\n" << out << err;
    return out;
  }

  test::TempDir dir;
  const fs::path prefix = dir.file("prefix");
  fs::path lib;
};

TEST_F(InstalledPackage, SharedLibraryWithVersionedSoname) {
  const std::string soname = std::string("libgenre.so.") + GENRE_SOVERSION;
  EXPECT_TRUE(fs::is_symlink(lib / "libgenre.so"));
  EXPECT_TRUE(fs::exists(lib / soname));
  EXPECT_TRUE(fs::is_regular_file(lib / (std::string("libgenre.so.") + GENRE_VERSION)));
  EXPECT_NE(
      run("objdump -p " + (lib / "libgenre.so").string()).find("SONAME               " + soname),
      std::string::npos);
  EXPECT_TRUE(fs::exists(lib / "cmake/genre/genreConfig.cmake"));
  EXPECT_TRUE(fs::exists(lib / "cmake/genre/genreConfigVersion.cmake"));
  EXPECT_TRUE(fs::exists(lib / "pkgconfig/genre.pc"));
  EXPECT_TRUE(fs::exists(prefix / "bin/genre"));
  EXPECT_TRUE(fs::exists(prefix / "share/doc/genre/library.md"));
}

// Public headers only, and each one's includes resolve among them: a consumer never needs a
// header that was not installed.
TEST_F(InstalledPackage, PublicHeadersOnlyIncludePublicHeaders) {
  const fs::path include = prefix / "include/genre";
  for (const char* h : {"genre.h", "audio/audio.h", "features/features.h", "model/inference.h",
                        "model/model_file.h", "predict/predictor.h", "common/error.h"})
    EXPECT_TRUE(fs::exists(include / h)) << h;
  for (const char* h : {"train/trainer.h", "common/draw.h", "data/dataset.h", "serve/serve.h",
                        "cli/options.h", "model/keras_import.h"})
    EXPECT_FALSE(fs::exists(include / h)) << h << " is private";
  const std::regex quoted_include(R"re(^\s*#\s*include\s+"([^"]+)")re");
  int headers = 0;
  for (const auto& entry : fs::recursive_directory_iterator(include)) {
    if (entry.path().extension() != ".h") continue;
    ++headers;
    std::ifstream in(entry.path());
    std::smatch m;
    for (std::string line; std::getline(in, line);) {
      if (!std::regex_search(line, m, quoted_include)) continue;
      EXPECT_TRUE(fs::exists(entry.path().parent_path() / m[1].str()))
          << entry.path() << " includes " << m[1] << ", which is not installed beside it";
    }
  }
  EXPECT_GE(headers, 10);
}

// examples/cpp-consumer, configured with find_package(genre) against the prefix, says what
// `genre predict` says.
TEST_F(InstalledPackage, CMakeConsumerClassifiesAnExample) {
  const fs::path build = dir.file("consumer");
  run(std::string(GENRE_CMAKE) + " -S " + GENRE_SOURCE_DIR + "/examples/cpp-consumer -B " +
      build.string() + " -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=" + prefix.string() +
      GENRE_CONSUMER_CMAKE_ARGS);
  run(std::string(GENRE_CMAKE) + " --build " + build.string());
  const std::string model = (prefix / "share/genre/models/genre-gtzan.pt").string();
  const std::string line = run((build / "classify").string() + " " + model + " " + kClip);
  const auto expected = nlohmann::json::parse(
      run((prefix / "bin/genre").string() + " predict -q --json --model " + model + " " + kClip));
  const auto& top = expected["predictions"][0]["top"][0];
  std::istringstream words(line);
  std::string label;
  double probability = 0;
  words >> label >> probability;
  EXPECT_EQ(label, top["label"].get<std::string>()) << line;
  EXPECT_NEAR(probability, top["probability"].get<double>(), 1e-3) << line;
  // Errors reach the consumer as genre::Error with the file named.
  std::string out, err;
  EXPECT_EQ(
      test::run_command((build / "classify").string() + " " + model + " missing.wav", &out, &err),
      1);
  EXPECT_NE(err.find("missing.wav"), std::string::npos) << err;
}

// genre.pc alone builds and links a program (decoding only, so no LibTorch code to compile).
TEST_F(InstalledPackage, PkgConfigBuildsAProgram) {
  const fs::path source = dir.file("decode.cpp"), program = dir.file("decode");
  std::ofstream(source) << "#include <genre/audio/audio.h>\n#include <cstdio>\n"
                           "int main(int, char** argv) {\n"
                           "  std::printf(\"%zu\\n\", genre::load_mono(argv[1], 12000).size());\n"
                           "}\n";
  const std::string flags = run("PKG_CONFIG_PATH=" + (lib / "pkgconfig").string() + " " +
                                GENRE_PKG_CONFIG + " --cflags --libs genre");
  EXPECT_NE(flags.find("-lgenre"), std::string::npos) << flags;
  std::string flat = flags;
  flat.erase(flat.find_last_not_of(" \n") + 1);
  run(std::string(GENRE_CXX) + " -std=c++17 " + source.string() + " -o " + program.string() + " " +
      flat + " -Wl,-rpath," + lib.string());
  const std::string printed = run(program.string() + " " + kClip);
  EXPECT_EQ(std::stoul(printed), load_mono(kClip, 12000).size());
}

}  // namespace
}  // namespace genre
