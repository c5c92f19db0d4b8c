#include "data/dataset.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "audio/audio.h"
#include "common/error.h"

namespace genre {

namespace fs = std::filesystem;

std::vector<std::size_t> Dataset::indices_of_split(const std::string& split) const {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < tracks.size(); ++i)
    if (tracks[i].split == split) out.push_back(i);
  return out;
}

std::vector<int> Dataset::class_counts(const std::vector<std::size_t>& indices) const {
  std::vector<int> counts(classes.size(), 0);
  for (auto i : indices) ++counts[tracks[i].label];
  return counts;
}

namespace {

std::string track_id(const std::string& cls, const fs::path& file) {
  return cls + "/" + file.stem().string();
}

std::vector<std::string> split_fields(const std::string& line, char sep) {
  std::vector<std::string> fields;
  std::stringstream ss(line);
  std::string f;
  while (std::getline(ss, f, sep)) {
    while (!f.empty() && (f.back() == '\r' || f.back() == ' ')) f.pop_back();
    while (!f.empty() && f.front() == ' ') f.erase(f.begin());
    fields.push_back(f);
  }
  return fields;
}

void assign_labels(Dataset& ds, const std::vector<std::string>& labels,
                   const std::vector<std::string>& fixed_classes) {
  auto names_of = [](const std::string& field) {
    std::vector<std::string> names = split_fields(field, ';');
    names.erase(std::remove(names.begin(), names.end(), std::string()), names.end());
    return names;
  };
  if (fixed_classes.empty()) {
    std::set<std::string> unique;
    for (const auto& l : labels)
      for (const auto& n : names_of(l)) unique.insert(n);
    ds.classes.assign(unique.begin(), unique.end());
  } else {
    ds.classes = fixed_classes;
  }
  std::map<std::string, int> index;
  for (std::size_t i = 0; i < ds.classes.size(); ++i) index[ds.classes[i]] = static_cast<int>(i);
  for (std::size_t i = 0; i < ds.tracks.size(); ++i) {
    for (const auto& name : names_of(labels[i])) {
      auto it = index.find(name);
      if (it == index.end())
        throw Error(ErrorKind::kData, ds.tracks[i].path,
                    "label '" + name + "' is not one of the classes (" +
                        std::to_string(ds.classes.size()) + " known)");
      ds.tracks[i].labels.push_back(it->second);
    }
    if (ds.tracks[i].labels.empty())
      throw Error(ErrorKind::kData, ds.tracks[i].path, "track has no label");
    ds.tracks[i].label = ds.tracks[i].labels[0];
    if (ds.tracks[i].labels.size() > 1) ds.multi_label = true;
  }
}

Dataset load_manifest(const std::string& path, const std::vector<std::string>& classes) {
  std::ifstream in(path);
  if (!in) throw Error(ErrorKind::kNotFound, path, "cannot open manifest");
  const char sep = fs::path(path).extension() == ".tsv" ? '\t' : ',';
  Dataset ds;
  ds.root = fs::path(path).parent_path().string();
  std::vector<std::string> labels;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    auto f = split_fields(line, sep);
    if (line_no == 1 && !f.empty() && (f[0] == "path" || f[0] == "file")) continue;  // header
    if (f.size() < 2 || f[0].empty() || f[1].empty())
      throw Error(ErrorKind::kData, path,
                  "line " + std::to_string(line_no) + ": expected path" + std::string(1, sep) +
                      "label[" + std::string(1, sep) + "split]");
    Track t;
    t.path = fs::path(f[0]).is_absolute() ? f[0] : (fs::path(ds.root) / f[0]).string();
    t.id = track_id(f[1], f[0]);
    if (f.size() > 2) t.split = f[2];
    if (!t.split.empty() && t.split != "train" && t.split != "valid" && t.split != "test")
      throw Error(ErrorKind::kData, path,
                  "line " + std::to_string(line_no) + ": split must be train, valid or test");
    ds.tracks.push_back(t);
    labels.push_back(f[1]);
  }
  if (ds.tracks.empty()) throw Error(ErrorKind::kData, path, "manifest lists no tracks");
  assign_labels(ds, labels, classes);
  return ds;
}

Dataset load_folders(const std::string& dir, const std::vector<std::string>& classes) {
  std::string root = dir;
  if (fs::is_directory(fs::path(dir) / "genres")) root = (fs::path(dir) / "genres").string();
  Dataset ds;
  ds.root = root;
  std::vector<std::string> labels;
  std::vector<fs::path> class_dirs;
  for (const auto& e : fs::directory_iterator(root))
    if (e.is_directory() && e.path().filename().string()[0] != '.') class_dirs.push_back(e.path());
  std::sort(class_dirs.begin(), class_dirs.end());
  for (const auto& cdir : class_dirs) {
    const std::string cls = cdir.filename().string();
    if (!classes.empty() && std::find(classes.begin(), classes.end(), cls) == classes.end())
      continue;
    std::vector<fs::path> files;
    for (const auto& e : fs::recursive_directory_iterator(cdir))
      if (e.is_regular_file() && has_audio_extension(e.path().string())) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      Track t;
      t.path = f.string();
      t.id = track_id(cls, f);
      ds.tracks.push_back(t);
      labels.push_back(cls);
    }
  }
  if (ds.tracks.empty())
    throw Error(
        ErrorKind::kData, dir,
        "no audio found: expected one folder per class (e.g. blues/, classical/) with audio files");
  assign_labels(ds, labels, classes);
  return ds;
}

}  // namespace

Dataset load_dataset(const std::string& path, const std::vector<std::string>& classes) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error(ErrorKind::kNotFound, path, "dataset not found");
  if (fs::is_directory(path, ec)) return load_folders(path, classes);
  return load_manifest(path, classes);
}

SplitReport apply_split_lists(Dataset& dataset, const std::string& dir) {
  SplitReport report;
  std::map<std::string, std::size_t> by_id;
  for (std::size_t i = 0; i < dataset.tracks.size(); ++i) {
    dataset.tracks[i].split.clear();
    by_id[dataset.tracks[i].id] = i;
  }
  bool any_list = false;
  for (const std::string split : {"train", "valid", "test"}) {
    fs::path list = fs::path(dir) / (split + "_filtered.txt");
    if (!fs::exists(list)) list = fs::path(dir) / (split + ".txt");
    if (!fs::exists(list)) continue;
    any_list = true;
    std::ifstream in(list);
    std::string line;
    while (std::getline(in, line)) {
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
      if (line.empty() || line[0] == '#') continue;
      ++report.listed;
      const fs::path p(line);
      const std::string id = p.parent_path().filename().string() + "/" + p.stem().string();
      auto it = by_id.find(id);
      if (it == by_id.end()) {
        report.missing.push_back(line);
        continue;
      }
      dataset.tracks[it->second].split = split;
      ++report.matched;
    }
  }
  if (!any_list)
    throw Error(ErrorKind::kData, dir,
                "no split lists found (expected train.txt/valid.txt/test.txt or *_filtered.txt)");
  return report;
}

namespace {

// Per-class shuffled index lists, deterministic for a seed.
std::vector<std::vector<std::size_t>> shuffled_by_class(const Dataset& ds, std::uint64_t seed) {
  std::vector<std::vector<std::size_t>> by_class(ds.classes.size());
  for (std::size_t i = 0; i < ds.tracks.size(); ++i) by_class[ds.tracks[i].label].push_back(i);
  std::mt19937_64 rng(seed);
  for (auto& v : by_class) std::shuffle(v.begin(), v.end(), rng);
  return by_class;
}

}  // namespace

void stratified_split(Dataset& dataset, double valid_fraction, double test_fraction,
                      std::uint64_t seed) {
  for (auto& members : shuffled_by_class(dataset, seed)) {
    const std::size_t n = members.size();
    const std::size_t n_test = static_cast<std::size_t>(n * test_fraction + 0.5);
    const std::size_t n_valid = static_cast<std::size_t>(n * valid_fraction + 0.5);
    for (std::size_t j = 0; j < n; ++j)
      dataset.tracks[members[j]].split = j < n_test             ? "test"
                                         : j < n_test + n_valid ? "valid"
                                                                : "train";
  }
}

std::vector<int> stratified_folds(const Dataset& dataset, int k, std::uint64_t seed) {
  if (k < 2) throw Error(ErrorKind::kInvalidArgument, "", "k-fold needs k >= 2");
  std::vector<int> fold(dataset.tracks.size(), 0);
  // Deal each class's shuffled tracks round-robin, continuing where the previous class stopped,
  // so fold sizes differ by at most one.
  int next = 0;
  for (auto& members : shuffled_by_class(dataset, seed))
    for (std::size_t j = 0; j < members.size(); ++j) fold[members[j]] = next++ % k;
  return fold;
}

}  // namespace genre
