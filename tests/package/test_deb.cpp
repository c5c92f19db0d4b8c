// The Debian package: `cpack -G DEB` from the build tree, then its contents and control data as
// dpkg-deb shows them, and the Python module imported from the unpacked package.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <string>

#include "support/test_support.h"

namespace genre {
namespace {

namespace fs = std::filesystem;

class DebianPackage : public ::testing::Test {
 protected:
  void SetUp() override {
    if (test::run_command("command -v dpkg-deb >/dev/null") != 0) GTEST_SKIP() << "no dpkg-deb";
    run(std::string(GENRE_CPACK) + " -G DEB --config " + GENRE_BUILD_DIR +
        "/CPackConfig.cmake -B " + dir.path());
    for (const auto& entry : fs::directory_iterator(dir.path()))
      if (entry.path().extension() == ".deb") deb = entry.path().string();
    ASSERT_FALSE(deb.empty()) << "cpack wrote no .deb into " << dir.path();
  }
  std::string run(const std::string& command) {
    std::string out, err;
    const int status = test::run_command(command, &out, &err);
    EXPECT_EQ(status, 0) << command << "\n" << out << err;
    return out;
  }
  static bool has_line(const std::string& text, const std::string& pattern) {
    return std::regex_search(text, std::regex(pattern, std::regex::multiline));
  }

  test::TempDir dir;
  std::string deb;
};

TEST_F(DebianPackage, ContainsBinaryLibraryHeadersModelsPythonAndDocs) {
  EXPECT_NE(fs::path(deb).filename().string().find(std::string("genre_") + GENRE_VERSION),
            std::string::npos)
      << deb;
  const std::string files = run("dpkg-deb -c " + deb);
  for (const char* pattern :
       {R"( \./usr/bin/genre$)", R"( \./usr/lib/(x86_64-linux-gnu/)?libgenre\.so\.[0-9.]+$)",
        R"( \./usr/lib/(x86_64-linux-gnu/)?libgenre\.so -> )", R"( \./usr/include/genre/genre\.h$)",
        R"( \./usr/include/genre/model/inference\.h$)",
        R"( \./usr/lib/(x86_64-linux-gnu/)?cmake/genre/genreConfig\.cmake$)",
        R"( \./usr/lib/(x86_64-linux-gnu/)?pkgconfig/genre\.pc$)",
        R"( \./usr/lib/python3/dist-packages/genre\.cpython-[^/]*\.so$)",
        R"( \./usr/share/genre/models/genre-gtzan\.pt$)",
        R"( \./usr/share/genre/models/README\.md$)", R"( \./usr/share/doc/genre/README\.md$)",
        R"( \./usr/share/doc/genre/library\.md$)"})
    EXPECT_TRUE(has_line(files, pattern)) << pattern << " missing from\n" << files;
  EXPECT_FALSE(has_line(files, R"(include/genre/train/)")) << "private headers packaged";
}

TEST_F(DebianPackage, ControlDeclaresDebianRuntimeDependencies) {
  const std::string info = run("dpkg-deb --info " + deb);
  EXPECT_TRUE(has_line(info, R"(^ Package: genre$)")) << info;
  EXPECT_TRUE(has_line(info, std::string("^ Version: ") + GENRE_VERSION + "$")) << info;
  EXPECT_TRUE(has_line(info, R"(^ Architecture: (amd64|arm64)$)")) << info;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(info, m, std::regex(R"(\n Depends: ([^\n]*))"))) << info;
  const std::string depends = m[1];
  for (const char* package : {"libtorch", "libsndfile1", "libsoxr0", "libfftw3", "libcairo2",
                              "libhdf5", "libc6", "python3-numpy"})
    EXPECT_NE(depends.find(package), std::string::npos) << package << " not in " << depends;
}

// The module finds the packaged libgenre through its RPATH, wherever the package is unpacked.
TEST_F(DebianPackage, PythonModuleImportsFromTheUnpackedPackage) {
  if (!fs::exists("/usr/bin/python3")) GTEST_SKIP() << "no /usr/bin/python3";
  const std::string root = dir.file("root");
  run("dpkg-deb -x " + deb + " " + root);
  // In an ASan build the module needs the sanitizer runtime preloaded (tests/CMakeLists.txt).
  const std::string preload = GENRE_SANITIZER_PRELOAD;
  const std::string env = preload.empty() ? "" : "LD_PRELOAD=" + preload + " ";
  const std::string out = run(env + "PYTHONPATH=" + root +
                              "/usr/lib/python3/dist-packages /usr/bin/python3 -c "
                              "'import genre; print(genre.__file__); print(genre.Model(\"" +
                              root + "/usr/share/genre/models/genre-crnn.pt\").classes[0])'");
  EXPECT_NE(out.find(root), std::string::npos) << out;
  EXPECT_NE(out.find("blues"), std::string::npos) << out;
}

}  // namespace
}  // namespace genre
