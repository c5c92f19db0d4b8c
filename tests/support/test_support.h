// Shared helpers for genre's tests: the shared-data path, temporary directories, generated audio.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace genre::test {

// $GENRE_SHARED, else ../shared relative to the source tree. Empty when absent.
std::string shared_dir();

// Skips the current test with a clear message when ../shared is absent.
#define GENRE_REQUIRE_SHARED()                                                         \
  do {                                                                                 \
    if (::genre::test::shared_dir().empty())                                           \
      GTEST_SKIP() << "shared data not found: set GENRE_SHARED to the shared/ folder"; \
  } while (0)

// A fresh directory under the build tree, removed when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Writes audio with libsndfile. `format` is an SF_FORMAT_* combination; samples are interleaved.
void write_audio(const std::string& path, const std::vector<float>& interleaved, int sample_rate,
                 int channels, int format);
// A sine tone (mono) of `seconds` at `rate`.
std::vector<float> sine(double freq, double seconds, int rate, float amplitude = 0.5f);
// Deterministic white noise.
std::vector<float> noise(double seconds, int rate, std::uint32_t seed, float amplitude = 0.3f);
// Writes `bytes` raw bytes.
void write_bytes(const std::string& path, const std::string& bytes);
// A folder-per-class dataset of synthetic clips: tone/ noise/ clicks/ chirp/, `per_class` WAV
// files each (12 kHz mono, `seconds` long, varied by the seed).
void make_synthetic_dataset(const std::string& dir, int per_class, double seconds,
                            std::uint32_t seed = 1);
// The kind of the genre::Error that `f` throws (a test failure when it throws none).
int error_kind_of(const std::function<void()>& f);

// A small untrained multi-label "tagger" of the sota family (ReLU blocks, global input norm, 6
// tags) on genre's default 12 kHz features: a backbone for transfer-model tests.
void write_tiny_tagger(const std::string& path, int seed);

// Path of the built genre CLI (passed by CMake).
std::string genre_binary();
// Runs a shell command, returns its exit status and captures stdout (stderr to `err` if given).
int run_command(const std::string& command, std::string* out = nullptr, std::string* err = nullptr);

}  // namespace genre::test
