// Hostile .npy files: wrong dtypes, shapes, header lengths, Fortran order, truncated data.
// Every one is a genre::Error naming the file, decided before anything is sized from the header.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "common/error.h"
#include "features/npy.h"
#include "support/test_support.h"

namespace genre {
namespace {

// A version-1 .npy with the given header dict text and data bytes.
std::string npy_bytes(const std::string& dict, const std::string& data, int version = 1) {
  std::string header = dict;
  while ((10 + header.size() + 1) % 64) header += ' ';
  header += '\n';
  std::string s = "\x93NUMPY";
  s += static_cast<char>(version);
  s += '\0';
  s += static_cast<char>(header.size() & 0xff);
  s += static_cast<char>(header.size() >> 8);
  if (version > 1) s += std::string(2, '\0');
  return s + header + data;
}

std::string floats(std::size_t n, float v = 1.0f) {
  std::string s(n * 4, '\0');
  for (std::size_t i = 0; i < n; ++i) std::memcpy(&s[i * 4], &v, 4);
  return s;
}

ErrorKind kind_of_reading(const std::string& bytes, std::string* message = nullptr) {
  test::TempDir dir;
  const std::string path = dir.file("x.npy");
  test::write_bytes(path, bytes);
  try {
    spectrogram_from_npy(path);
  } catch (const Error& e) {
    EXPECT_EQ(e.path(), path);
    if (message) *message = e.what();
    return e.kind();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not a genre::Error: " << e.what();
    return ErrorKind::kIo;
  }
  ADD_FAILURE() << "accepted";
  return ErrorKind::kIo;
}

const char kGood[] = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";

TEST(HostileNpy, WellFormedFileIsRead) {
  test::TempDir dir;
  test::write_bytes(dir.file("ok.npy"), npy_bytes(kGood, floats(6)));
  const Spectrogram s = spectrogram_from_npy(dir.file("ok.npy"));
  EXPECT_EQ(s.n_mels, 2);
  EXPECT_EQ(s.n_frames, 3);
}

TEST(HostileNpy, WrongDtypes) {
  for (const char* d : {"<i4", ">f4", "<f2", "<c8", "|u1", "<f16", "O"}) {
    const std::string dict =
        std::string("{'descr': '") + d + "', 'fortran_order': False, 'shape': (2, 3), }";
    EXPECT_EQ(kind_of_reading(npy_bytes(dict, floats(12))), ErrorKind::kUnsupportedFormat) << d;
  }
}

TEST(HostileNpy, FortranOrderAndMissingKeys) {
  EXPECT_EQ(kind_of_reading(
                npy_bytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", floats(6))),
            ErrorKind::kUnsupportedFormat);
  EXPECT_EQ(kind_of_reading(npy_bytes("{'descr': '<f4', 'shape': (2, 3), }", floats(6))),
            ErrorKind::kCorrupt);
  EXPECT_EQ(kind_of_reading(npy_bytes("{'descr': '<f4', 'fortran_order': False}", floats(6))),
            ErrorKind::kCorrupt);
  EXPECT_EQ(kind_of_reading(npy_bytes("{'descr'", "")), ErrorKind::kCorrupt);
}

TEST(HostileNpy, ShapesThatLie) {
  // Claims far more data than the file holds: rejected before allocating 8 GiB.
  std::string msg;
  EXPECT_EQ(kind_of_reading(npy_bytes("{'descr': '<f4', 'fortran_order': False, "
                                      "'shape': (46340, 46340), }",
                                      floats(6)),
                            &msg),
            ErrorKind::kCorrupt);
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
  // Products that overflow 64 bits, negative and non-numeric dimensions.
  for (const char* shape : {"(4294967295, 4294967295, 4294967295)", "(-1, 3)", "(2, x)",
                            "(99999999999999999999, 1)", "(1, 2, 3, 4, 5, 6, 7, 8, 9)"}) {
    const std::string dict =
        std::string("{'descr': '<f4', 'fortran_order': False, 'shape': ") + shape + ", }";
    EXPECT_EQ(kind_of_reading(npy_bytes(dict, floats(6))), ErrorKind::kCorrupt) << shape;
  }
  // A 1-D or 3-D non-singleton array is not a log-mel.
  EXPECT_EQ(kind_of_reading(
                npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", floats(6))),
            ErrorKind::kUnsupportedFormat);
}

TEST(HostileNpy, HeaderLengthsAndVersions) {
  std::string bytes = npy_bytes(kGood, floats(6));
  bytes[8] = static_cast<char>(0xff);  // header length 0xff.. past the end of the file
  bytes[9] = static_cast<char>(0xff);
  EXPECT_EQ(kind_of_reading(bytes), ErrorKind::kCorrupt);
  std::string v9 = npy_bytes(kGood, floats(6));
  v9[6] = 9;
  EXPECT_EQ(kind_of_reading(v9), ErrorKind::kUnsupportedFormat);
  EXPECT_EQ(kind_of_reading("\x93NUMPY"), ErrorKind::kCorrupt);
  EXPECT_EQ(kind_of_reading("not numpy at all"), ErrorKind::kCorrupt);
  // A 60 KiB shape text (std::regex used to recurse once per character here).
  const std::string huge_shape =
      "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::string(60000, ' ') + "2, 3), }";
  test::TempDir dir;
  test::write_bytes(dir.file("wide.npy"), npy_bytes(huge_shape, floats(6), 2));
  EXPECT_EQ(spectrogram_from_npy(dir.file("wide.npy")).n_frames, 3);
}

TEST(HostileNpy, TruncatedDataAndNonFiniteValues) {
  EXPECT_EQ(kind_of_reading(npy_bytes(kGood, floats(5))), ErrorKind::kCorrupt);
  std::string nan = floats(6);
  const float q = std::numeric_limits<float>::quiet_NaN();
  std::memcpy(&nan[8], &q, 4);
  EXPECT_EQ(kind_of_reading(npy_bytes(kGood, nan)), ErrorKind::kCorrupt);
}

}  // namespace
}  // namespace genre
