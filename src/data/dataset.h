// genre/data: labelled datasets, splits and cached features.
//
// A dataset is a list of tracks with labels. Sources: a folder per class (GTZAN's layout,
// `genres/<genre>/<genre>.000NN.au` or `<genre>/<file>`), or a CSV/TSV manifest
// (`path,label[,split]`, paths relative to the manifest).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace genre {

struct Track {
  std::string path;
  int label = -1;           // index into Dataset::classes (the first label)
  std::vector<int> labels;  // all labels (multi-label manifests: "a;b;c"); {label} otherwise
  std::string id;           // "<class>/<file stem>", the key split lists use
  std::string split;        // "train" | "valid" | "test" | "" (from a manifest or split lists)
};

struct Dataset {
  std::string root;
  std::vector<std::string> classes;  // sorted
  std::vector<Track> tracks;
  bool multi_label = false;  // some track has more than one label

  std::vector<std::size_t> indices_of_split(const std::string& split) const;
  std::vector<int> class_counts(const std::vector<std::size_t>& indices) const;
};

// Loads a folder-per-class tree or a .csv/.tsv manifest. Throws genre::Error(kData) when nothing
// usable is found. `classes` (optional) fixes the class list and order (e.g. a model's).
Dataset load_dataset(const std::string& path, const std::vector<std::string>& classes = {});

struct SplitReport {
  std::size_t listed = 0, matched = 0;
  std::vector<std::string> missing;  // listed ids not present in the dataset
};

// Applies split-list files (train/valid/test .txt, one "genre/genre.000NN.wav" per line, matched by
// class folder and file stem, never by extension). `dir` holds files named like
// {train,valid,test}{,_filtered}.txt. Tracks not listed get split "". Missing tracks are reported.
SplitReport apply_split_lists(Dataset& dataset, const std::string& dir);

// Seeded stratified split: assigns "train"/"valid"/"test" with the given fractions per class.
void stratified_split(Dataset& dataset, double valid_fraction, double test_fraction,
                      std::uint64_t seed);

// Seeded stratified k-fold: fold index per track (0..k-1), class-balanced.
std::vector<int> stratified_folds(const Dataset& dataset, int k, std::uint64_t seed);

}  // namespace genre
