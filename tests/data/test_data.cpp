// Datasets (folders, manifests), splits, k-fold, and the feature cache.
#include <gtest/gtest.h>
#include <sndfile.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "common/error.h"
#include "data/dataset.h"
#include "data/feature_cache.h"
#include "data/inputs.h"
#include "features/npy.h"
#include "support/test_support.h"

namespace genre {
namespace {

namespace fs = std::filesystem;

TEST(Dataset, FolderPerClassAndGtzanGenresSubfolder) {
  test::TempDir dir;
  test::make_synthetic_dataset(dir.file("genres"), 2, 0.5);
  const Dataset d = load_dataset(dir.path());  // finds genres/
  EXPECT_EQ(d.classes, (std::vector<std::string>{"chirp", "clicks", "noise", "tone"}));
  EXPECT_EQ(d.tracks.size(), 8u);
  EXPECT_EQ(d.tracks[0].id, "chirp/chirp.0");
  EXPECT_FALSE(d.multi_label);
  EXPECT_THROW(load_dataset(dir.file("missing")), Error);
  fs::create_directories(dir.file("empty/a"));
  EXPECT_THROW(load_dataset(dir.file("empty")), Error);
}

TEST(Dataset, ManifestWithSplitsAndMultiLabel) {
  test::TempDir dir;
  std::ofstream(dir.file("m.csv"))
      << "path,label,split\na.wav,rock,train\nb.wav,jazz;blues,test\nc.wav,rock,valid\n";
  const Dataset d = load_dataset(dir.file("m.csv"));
  EXPECT_EQ(d.classes, (std::vector<std::string>{"blues", "jazz", "rock"}));
  EXPECT_TRUE(d.multi_label);
  EXPECT_EQ(d.tracks[1].labels, (std::vector<int>{1, 0}));
  EXPECT_EQ(d.tracks[1].split, "test");
  EXPECT_EQ(d.tracks[0].path, (fs::path(dir.path()) / "a.wav").string());
  std::ofstream(dir.file("bad.tsv")) << "only-one-field\n";
  EXPECT_THROW(load_dataset(dir.file("bad.tsv")), Error);
}

TEST(Splits, StratifiedRandomAndKFoldAreBalancedAndSeeded) {
  test::TempDir dir;
  test::make_synthetic_dataset(dir.file("d"), 10, 0.2);
  Dataset d = load_dataset(dir.file("d"));
  stratified_split(d, 0.2, 0.1, 7);
  EXPECT_EQ(d.class_counts(d.indices_of_split("valid")), (std::vector<int>{2, 2, 2, 2}));
  EXPECT_EQ(d.class_counts(d.indices_of_split("test")), (std::vector<int>{1, 1, 1, 1}));
  Dataset again = load_dataset(dir.file("d"));
  stratified_split(again, 0.2, 0.1, 7);
  for (std::size_t i = 0; i < d.tracks.size(); ++i)
    EXPECT_EQ(d.tracks[i].split, again.tracks[i].split);

  const auto folds = stratified_folds(d, 10, 3);
  for (int k = 0; k < 10; ++k) {
    std::vector<std::size_t> members;
    for (std::size_t i = 0; i < folds.size(); ++i)
      if (folds[i] == k) members.push_back(i);
    EXPECT_EQ(members.size(), 4u);
    EXPECT_EQ(d.class_counts(members), (std::vector<int>{1, 1, 1, 1}));
  }
}

TEST(Splits, ListsMatchByFolderAndStemAndReportMissing) {
  test::TempDir dir;
  test::make_synthetic_dataset(dir.file("d"), 2, 0.2);
  Dataset d = load_dataset(dir.file("d"));
  fs::create_directories(dir.file("s"));
  std::ofstream(dir.file("s/train_filtered.txt"))
      << "tone/tone.0.au\nnoise/noise.0.wav\nmetal/metal.00003.wav\n";
  std::ofstream(dir.file("s/test_filtered.txt")) << "tone/tone.1.wav\n";
  const SplitReport r = apply_split_lists(d, dir.file("s"));
  EXPECT_EQ(r.listed, 4u);
  EXPECT_EQ(r.matched, 3u);
  EXPECT_EQ(r.missing, (std::vector<std::string>{"metal/metal.00003.wav"}));
  EXPECT_EQ(d.indices_of_split("train").size(), 2u);
  EXPECT_THROW(apply_split_lists(d, dir.file("nolists")), Error);
}

TEST(FeatureCache, SecondRunReadsTheCacheInsteadOfDecoding) {
  test::TempDir dir;
  test::write_audio(dir.file("a.wav"), test::sine(440, 2.0, 22050), 22050, 1,
                    SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  const FeatureCache cache(dir.file("cache"));
  const FeatureConfig c = feature_default_params();
  const TrackFeatures first = cache.get(dir.file("a.wav"), c);
  EXPECT_NEAR(first.valid_frames, 1 + (24000 - 1) / 256, 1);  // 2 s of signal, then padding
  // Overwrite the cached array: if the second call decoded audio it would not see this value.
  std::string npy;
  for (const auto& e : fs::recursive_directory_iterator(dir.file("cache")))
    if (e.path().extension() == ".npy") npy = e.path().string();
  ASSERT_FALSE(npy.empty());
  Spectrogram marked = first.logmel;
  marked.at(0, 0) = 12345.0f;
  write_npy(npy, marked);
  const TrackFeatures second = cache.get(dir.file("a.wav"), c);
  EXPECT_EQ(second.logmel.at(0, 0), 12345.0f);
  EXPECT_EQ(second.valid_frames, first.valid_frames);
  // A different config is a different entry.
  FeatureConfig other = c;
  other.top_db = 60;
  EXPECT_NE(cache.get(dir.file("a.wav"), other).logmel.at(0, 0), 12345.0f);
  // Failures are reported per file, the others still load.
  const auto all = load_features({dir.file("a.wav"), dir.file("missing.wav")}, c, cache, 2, "");
  EXPECT_TRUE(all[0].ok());
  EXPECT_FALSE(all[1].ok());
}

// Processes of a data-parallel job share one cache: several writing the same entries at once
// leave whole entries and no temporary files.
TEST(FeatureCache, ProcessesWritingTheSameEntriesNeverTearThem) {
  test::TempDir dir;
  test::write_audio(dir.file("a.wav"), test::noise(3.0, 12000, 7), 12000, 1,
                    SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  const FeatureCache cache(dir.file("cache"));
  const int kEntries = 12;
  auto config_of = [](int i) {
    FeatureConfig c = feature_default_params();
    c.top_db = 40 + i;  // one new entry per config
    return c;
  };
  std::vector<pid_t> children;
  for (int p = 0; p < 4; ++p) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      int status = 0;
      try {
        for (int i = 0; i < kEntries; ++i) cache.get(dir.file("a.wav"), config_of(i));
      } catch (...) {
        status = 1;
      }
      ::_exit(status);
    }
    children.push_back(pid);
  }
  for (const pid_t pid : children) {
    int status = -1;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  for (int i = 0; i < kEntries; ++i) {
    const Spectrogram fresh = extract_logmel(dir.file("a.wav"), config_of(i));
    const TrackFeatures cached = cache.get(dir.file("a.wav"), config_of(i));
    ASSERT_EQ(cached.logmel.data.size(), fresh.data.size());
    EXPECT_EQ(cached.logmel.data, fresh.data) << "entry " << i;
  }
  for (const auto& e : fs::recursive_directory_iterator(dir.file("cache")))
    EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << e.path();
}

TEST(Inputs, FilesDirectoriesListsAndStdin) {
  test::TempDir dir;
  fs::create_directories(dir.file("music/sub"));
  test::write_bytes(dir.file("music/b.mp3"), "x");
  test::write_bytes(dir.file("music/sub/a.FLAC"), "x");
  test::write_bytes(dir.file("music/notes.txt"), "x");
  std::ofstream(dir.file("list.txt")) << "# comment\n" << dir.file("music/b.mp3") << "\n\n";
  std::istringstream stdin_paths(dir.file("x.wav") + "\n");
  const auto got = expand_inputs({dir.file("music"), "@" + dir.file("list.txt"), "-"}, stdin_paths);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].relative, "b.mp3");
  EXPECT_EQ(got[1].relative, "sub/a.FLAC");
  EXPECT_EQ(got[3].path, dir.file("x.wav"));
  std::istringstream none;
  EXPECT_THROW(expand_inputs({"@" + dir.file("nope.txt")}, none), Error);
}

}  // namespace
}  // namespace genre
