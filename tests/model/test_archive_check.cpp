// Model-file bounds checks (model/archive_check.h): lengths inside an archive that LibTorch would
// allocate before finding them false are rejected with a message; real archives pass.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "common/error.h"
#include "model/archive_check.h"
#include "model/model_file.h"
#include "model/module_code_check.h"
#include "support/test_support.h"

namespace genre {
namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string saved_model(test::TempDir& dir) {
  ModelInfo info;
  info.arch.channels = {4, 4, 4, 4, 4};
  info.arch.n_classes = 2;
  info.classes = {"a", "b"};
  save_model(dir.file("m.pt"), make_model(info));
  return read_all(dir.file("m.pt"));
}

// The error message of f, or "" when it does not throw genre::Error.
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kModelFile);
    return e.what();
  }
  return "";
}

TEST(ArchiveCheck, SavedModelsAndShippedModelsPass) {
  test::TempDir dir;
  saved_model(dir);
  EXPECT_NO_THROW(check_model_archive(dir.file("m.pt")));
  for (const char* name : {"genre-gtzan.pt", "genre-crnn.pt"})
    EXPECT_NO_THROW(check_model_archive(std::string(GENRE_SOURCE_DIR) + "/models/" + name));
}

TEST(ArchiveCheck, PickledStringLongerThanThePickleIsRejectedBeforeLibTorch) {
  test::TempDir dir;
  std::string bytes = saved_model(dir);
  // The metadata JSON is a BINUNICODE ('X', 4-byte length) in data.pkl: claim 1.6 GB for it,
  // as the fuzzer's input did (LibTorch allocated it in full).
  const std::size_t at = bytes.find("{\"arch\"");
  ASSERT_NE(at, std::string::npos);
  ASSERT_EQ(bytes[at - 5], 'X');
  bytes.replace(at - 4, 4, std::string("\x03\x00\x00\x63", 4));
  test::write_bytes(dir.file("long.pt"), bytes);
  const std::string message = error_of([&] { load_model(dir.file("long.pt")); });
  EXPECT_NE(message.find("truncated or corrupt model file ('archive/data.pkl' byte"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("claims 1660944387 bytes"), std::string::npos) << message;
}

// The bytes of a string literal, NULs included.
template <std::size_t N>
std::string bytes_of(const char (&s)[N]) {
  return std::string(s, N - 1);
}

TEST(ArchiveCheck, PickleLengthsAndMemoIndices) {
  auto check = [&](const std::string& bytes) {
    return error_of([&] { check_pickle_bounds(bytes, "m.pt", "'data.pkl'"); });
  };
  EXPECT_EQ(check(bytes_of("\x80\x02X\x03\x00\x00\x00"
                           "abcq\x00.")),
            "");
  EXPECT_NE(check(bytes_of("\x80\x02X\x04\x00\x00\x00"
                           "abc"))
                .find("claims 4 bytes, 3 remain"),
            std::string::npos);
  EXPECT_NE(check(bytes_of("\x80\x02r\xff\xff\xff\x7f.")).find("memo index 2147483647"),
            std::string::npos);
  EXPECT_NE(check(bytes_of("\x80\x02\x8e\x00\x00\x00\x00\x00\x00\x00\x01")).find("claims"),
            std::string::npos);
  EXPECT_NE(check(bytes_of("\x80\x02T\xff\xff\xff\xff")).find("negative"), std::string::npos);
  EXPECT_NE(check(bytes_of("\x80\x02J\x01")).find("cut short"), std::string::npos);
  EXPECT_NE(check(bytes_of("\x80\x02"
                           "ctorch\nFloat"))
                .find("cut short"),
            std::string::npos);
}

TEST(ArchiveCheck, PickleStackDepth) {
  auto check = [&](const std::string& bytes) {
    return error_of([&] { check_pickle_bounds(bytes, "m.pt", "'data.pkl'"); });
  };
  // A list filled by APPENDS, a dict by SETITEMS, an object built as LibTorch writes one.
  EXPECT_EQ(check(bytes_of("\x80\x02]q\x00(K\x01K\x02"
                           "e.")),
            "");
  EXPECT_EQ(check(bytes_of("\x80\x02}(X\x01\x00\x00\x00"
                           "aK\x01u.")),
            "");
  EXPECT_EQ(check(bytes_of("\x80\x02"
                           "c__torch__\nModule\nq\x00)\x81}b.")),
            "");
  // The fuzzer's crash: BUILD right after GLOBAL (LibTorch 1.13 swapped the item below the
  // stack's start; bad-free under ASan).
  EXPECT_NE(check(bytes_of("\x80\x02"
                           "c__torch__\nModule\nb."))
                .find("byte 20: the stack holds 1, the opcode takes 2"),
            std::string::npos);
  EXPECT_NE(check(bytes_of("\x80\x02K\x01t.")).find("no mark to pop to"), std::string::npos);
  EXPECT_NE(check(bytes_of("\x80\x02(e.")).find("nothing below the mark"), std::string::npos);
  // Items below a mark are out of reach until it is popped.
  EXPECT_NE(check(bytes_of("\x80\x02K\x01K\x02(R.")).find("the stack holds 0, the opcode takes 2"),
            std::string::npos);
  EXPECT_NE(check(bytes_of("\x80\x02.")).find("the stack holds 0, the opcode takes 1"),
            std::string::npos);
  EXPECT_NE(check(std::string(20000, '(')).find("marks nested too deep"), std::string::npos);
}

TEST(ArchiveCheck, ZipDirectoryPointingOutsideTheFileIsRejected) {
  test::TempDir dir;
  const std::string good = saved_model(dir);
  // The first central directory entry: make its record larger than the file.
  std::string bytes = good;
  const std::size_t cd = bytes.find("PK\x01\x02");
  ASSERT_NE(cd, std::string::npos);
  bytes.replace(cd + 20, 8, std::string("\xff\xff\xff\x7f\xff\xff\xff\x7f", 8));
  test::write_bytes(dir.file("big.pt"), bytes);
  EXPECT_NE(error_of([&] { check_model_archive(dir.file("big.pt")); }).find("past the end"),
            std::string::npos);
  // A stored record whose two sizes disagree (LibTorch allocates the uncompressed one).
  bytes = good;
  bytes.replace(cd + 24, 4, std::string("\x00\x00\x00\x40", 4));
  test::write_bytes(dir.file("sizes.pt"), bytes);
  EXPECT_NE(error_of([&] { check_model_archive(dir.file("sizes.pt")); }).find("claims 1073741824"),
            std::string::npos);
  // No end record at all.
  test::write_bytes(dir.file("cut.pt"), good.substr(0, good.size() - 30));
  EXPECT_NE(error_of([&] { check_model_archive(dir.file("cut.pt")); }).find("zip"),
            std::string::npos);
}

TEST(ArchiveCheck, ModuleCodeIsOnlyFieldDeclarations) {
  auto check = [&](const std::string& code) {
    return error_of([&] { check_module_code(code, "m.pt", "archive/code/__torch__.py"); });
  };
  EXPECT_EQ(check("class Module(Module):\n"
                  "  __parameters__ = [\"weight\", \"bias\", ]\n"
                  "  __buffers__ = []\n"
                  "  __annotations__ = []\n"
                  "  __annotations__[\"0\"] = __torch__.___torch_mangle_4.Module\n"
                  "  weight : Tensor\n"
                  "  bias : Optional[Tensor]\n"
                  "  genre_model : str\n"),
            "");
  // The fuzzer's crash (LibTorch's parser took the misspelt list for a class constant).
  EXPECT_NE(check("class Module(Module):\n  __parameters__ = []\n  __fbufers__ = []\n")
                .find("line 3 is not a module declaration"),
            std::string::npos);
  EXPECT_NE(check("class Module(Module):\n  def forward(self, x):\n    return x\n"), "");
  EXPECT_NE(check("class Module(Module):\n  weight : List[List[\n"), "");
  EXPECT_NE(check("class Module(Module):\n  __parameters__ = [\"a\" ]\n"), "");
}

}  // namespace
}  // namespace genre
