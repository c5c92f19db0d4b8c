// Every input a fuzzer ever crashed genre with (fuzz/regressions/<target>/*) goes back through the
// same target in the normal suite, so a fixed crash stays fixed without libFuzzer. The seeds a
// fresh corpus starts from are exercised too: a target must accept good input.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "fuzz_targets.h"

namespace genre {
namespace {

namespace fs = std::filesystem;

using Target = void (*)(const std::uint8_t*, std::size_t);

const std::map<std::string, Target>& targets() {
  static const std::map<std::string, Target> t = {
      {"audio", fuzz::audio_one_input},           {"npy", fuzz::npy_one_input},
      {"dataset", fuzz::dataset_one_input},       {"serve_request", fuzz::serve_request_one_input},
      {"model_file", fuzz::model_file_one_input},
  };
  return t;
}

TEST(FuzzRegressions, EveryKeptCrashInputIsHandled) {
  const fs::path root = fs::path(GENRE_SOURCE_DIR) / "fuzz" / "regressions";
  int inputs = 0;
  for (const auto& [name, target] : targets()) {
    const fs::path dir = root / name;
    if (!fs::is_directory(dir)) continue;
    for (const auto& e : fs::directory_iterator(dir)) {
      if (!e.is_regular_file() || e.path().filename() == "README.md") continue;
      std::ifstream in(e.path(), std::ios::binary);
      const std::string bytes(std::istreambuf_iterator<char>(in), {});
      SCOPED_TRACE(e.path().string());
      // Anything but genre::Error escaping, or a crash, fails the test.
      EXPECT_NO_THROW(target(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
      ++inputs;
    }
  }
  std::cout << inputs << " kept fuzz inputs replayed\n";
}

TEST(FuzzRegressions, TargetsTakeEmptyAndTinyInputs) {
  const std::uint8_t bytes[] = {0, 1, 2, 3};
  for (const auto& [name, target] : targets()) {
    SCOPED_TRACE(name);
    EXPECT_NO_THROW(target(bytes, 0));
    EXPECT_NO_THROW(target(bytes, sizeof bytes));
  }
}

}  // namespace
}  // namespace genre
