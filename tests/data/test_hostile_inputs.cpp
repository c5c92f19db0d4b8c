// Hostile inputs to the input expansion and dataset readers: symlink loops, broken links,
// manifests and split lists with bad lines, lists naming missing files.
#include <gtest/gtest.h>
#include <sndfile.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/error.h"
#include "data/dataset.h"
#include "data/inputs.h"
#include "support/test_support.h"

namespace genre {
namespace {

namespace fs = std::filesystem;

void tone(const std::string& path) {
  test::write_audio(path, test::sine(440, 0.5, 8000), 8000, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
}

TEST(HostileInputs, SymlinkLoopsAreReportedAndTheRestIsFound) {
  test::TempDir dir;
  fs::create_directories(dir.file("in/a/b"));
  tone(dir.file("in/a/b/song.wav"));
  tone(dir.file("in/z.wav"));
  fs::create_directory_symlink("../..", dir.file("in/a/b/up"));    // loops back to in/
  fs::create_symlink("self.mp3", dir.file("in/self.mp3"));         // a link to itself
  fs::create_symlink("nowhere.wav", dir.file("in/dangling.wav"));  // broken
  fs::create_directory_symlink("a", dir.file("in/again"));         // a second way to a/: fine
  std::istringstream no_stdin;
  const auto found = expand_inputs({dir.file("in")}, no_stdin);
  std::vector<std::string> ok, problems;
  for (const auto& f : found) (f.problem.empty() ? ok : problems).push_back(f.relative);
  EXPECT_EQ(ok, (std::vector<std::string>{"a/b/song.wav", "again/b/song.wav", "z.wav"}));
  ASSERT_EQ(problems.size(), 4u);  // up (twice: via a/ and via again/), self.mp3, dangling.wav
  int loops = 0;
  for (const auto& f : found)
    if (f.problem.find("loop") != std::string::npos) ++loops;
  EXPECT_EQ(loops, 2);
}

TEST(HostileInputs, ListFilesKeepMissingAndOddEntries) {
  test::TempDir dir;
  tone(dir.file("a.wav"));
  std::ofstream(dir.file("list.txt")) << "# comment\r\n"
                                      << dir.file("a.wav") << "\r\n"
                                      << dir.file("missing.wav") << "\n\n   \n"
                                      << std::string("\xff\xfe bad utf8.wav") << "\n"
                                      << std::string(5000, 'x') << "\n";
  std::istringstream no_stdin;
  const auto found = expand_inputs({"@" + dir.file("list.txt")}, no_stdin);
  ASSERT_EQ(found.size(), 4u);  // blank and comment lines are skipped
  EXPECT_EQ(found[0].path, dir.file("a.wav"));
  EXPECT_EQ(found[1].path, dir.file("missing.wav"));
  try {
    expand_inputs({"@" + dir.file("no-such-list.txt")}, no_stdin);
    ADD_FAILURE() << "a missing list must be an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
  }
}

std::string data_error(const std::string& manifest_text, const std::string& name = "m.csv") {
  test::TempDir dir;
  std::ofstream(dir.file(name)) << manifest_text;
  try {
    load_dataset(dir.file(name));
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kData) << e.what();
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not a genre::Error: " << e.what();
    return e.what();
  }
  ADD_FAILURE() << "accepted: " << manifest_text;
  return "";
}

TEST(HostileInputs, ManifestsWithBadLinesNameTheLine) {
  EXPECT_NE(data_error("path,label\na.wav,rock\nb.wav\n").find("line 3"), std::string::npos);
  EXPECT_NE(data_error("a.wav,rock,holdout\n").find("line 1"), std::string::npos);
  EXPECT_NE(data_error("a.wav,\n").find("line 1"), std::string::npos);
  EXPECT_NE(data_error(",rock\n").find("line 1"), std::string::npos);
  EXPECT_NE(data_error("# only a comment\n").find("no tracks"), std::string::npos);
  EXPECT_NE(data_error("a.wav,;;;\n").find("no label"), std::string::npos);
  EXPECT_FALSE(data_error(std::string("\x00\x01\x02\xff\n", 5)).empty());
  EXPECT_NE(data_error("a.wav,rock\n", "m.tsv").find("line 1"), std::string::npos);
}

TEST(HostileInputs, SplitListsWithBadLinesReportThemAsMissing) {
  test::TempDir dir;
  fs::create_directories(dir.file("genres/rock"));
  fs::create_directories(dir.file("genres/jazz"));
  tone(dir.file("genres/rock/rock.00000.wav"));
  tone(dir.file("genres/jazz/jazz.00000.wav"));
  fs::create_directories(dir.file("split"));
  std::ofstream(dir.file("split/train.txt")) << "rock/rock.00000.wav\r\n"
                                             << "no-folder.wav\n"
                                             << std::string("\xff\xfe/\x01.wav") << "\n"
                                             << "../../../etc/passwd\n"
                                             << std::string(10000, '/') << "\n";
  std::ofstream(dir.file("split/test.txt")) << "jazz/jazz.00000.au\n";
  Dataset ds = load_dataset(dir.path());
  const SplitReport r = apply_split_lists(ds, dir.file("split"));
  EXPECT_EQ(r.matched, 2u);
  EXPECT_EQ(r.missing.size(), 4u);
  try {
    apply_split_lists(ds, dir.file("genres"));
    ADD_FAILURE() << "a folder without lists must be an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kData);
  }
}

}  // namespace
}  // namespace genre
