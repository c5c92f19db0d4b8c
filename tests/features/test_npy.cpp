#include <gtest/gtest.h>

#include <filesystem>

#include "common/error.h"
#include "features/npy.h"
#include "support/test_support.h"

namespace genre {
namespace {

TEST(Npy, RoundTrip) {
  test::TempDir dir;
  Spectrogram s;
  s.n_mels = 3;
  s.n_frames = 5;
  for (int i = 0; i < 15; ++i) s.data.push_back(i * 0.5f - 2);
  write_npy(dir.file("a.npy"), s);
  const NpyArray a = read_npy(dir.file("a.npy"));
  EXPECT_EQ(a.shape, (std::vector<std::int64_t>{3, 5}));
  EXPECT_EQ(a.data, s.data);
  // Header + data are 64-byte aligned as numpy writes them.
  EXPECT_EQ((std::filesystem::file_size(dir.file("a.npy")) - 15 * 4) % 64, 0u);
}

TEST(Npy, Reads4dChoiStyleShape) {
  test::TempDir dir;
  std::vector<float> data(2 * 7, 1.5f);
  write_npy(dir.file("b.npy"), {1, 1, 2, 7}, data);
  const Spectrogram s = spectrogram_from_npy(dir.file("b.npy"));
  EXPECT_EQ(s.n_mels, 2);
  EXPECT_EQ(s.n_frames, 7);
}

TEST(Npy, RejectsGarbageAndTruncation) {
  test::TempDir dir;
  test::write_bytes(dir.file("bad.npy"), "hello world, not numpy");
  EXPECT_THROW(read_npy(dir.file("bad.npy")), Error);
  write_npy(dir.file("t.npy"), {100}, std::vector<float>(100, 1.0f));
  std::filesystem::resize_file(dir.file("t.npy"), 200);
  EXPECT_THROW(read_npy(dir.file("t.npy")), Error);
  EXPECT_THROW(read_npy(dir.file("missing.npy")), Error);
}

}  // namespace
}  // namespace genre
