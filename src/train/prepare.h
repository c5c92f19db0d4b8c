// genre/train: from a dataset on disk to in-memory training examples (features via the cache).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/feature_cache.h"
#include "train/trainer.h"

namespace genre {

struct PreparedData {
  Dataset dataset;
  std::vector<TrackFeatures> features;  // parallel to dataset.tracks
  std::vector<Example> examples;        // parallel to dataset.tracks (logmel null when failed)
  std::size_t failed = 0;

  // Examples of the given track indices that decoded (failed tracks are skipped).
  std::vector<Example> select(const std::vector<std::size_t>& indices) const;
  std::vector<std::size_t> all_indices() const;
};

// How tracks are split: split lists in a directory, a seeded stratified random split, the
// manifest's own split column, or everything in one set ("none").
struct SplitSpec {
  std::string kind = "auto";  // auto | lists | random | manifest | none
  std::string lists_dir;
  double valid_fraction = 0.15, test_fraction = 0.15;
  std::uint64_t seed = 1;

  // "auto": manifest splits if the manifest has them, else random.
  // Parses "random", "manifest", "none", "auto" or a directory of split lists.
  static SplitSpec parse(const std::string& text, std::uint64_t seed, double valid_fraction,
                         double test_fraction);
  nlohmann::json to_json() const;
  static SplitSpec from_json(const nlohmann::json& j);
};

// Applies the split to the dataset; returns a report for the user (missing listed tracks etc.).
std::string apply_split(Dataset& dataset, const SplitSpec& spec);

// Loads the dataset and its features (parallel, cached, with progress).
PreparedData prepare_data(const std::string& path, const std::vector<std::string>& classes,
                          const FeatureConfig& config, const FeatureCache& cache, int threads,
                          bool quiet);

}  // namespace genre
