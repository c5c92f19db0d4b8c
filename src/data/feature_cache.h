// genre/data: features for many files, computed in parallel and cached on disk.
//
// The cache key is the file's content hash plus the feature config's digest, so renamed or moved
// files hit the cache and a changed config never reads stale features. A second run over the same
// data decodes no audio.
#pragma once

#include <string>
#include <vector>

#include "features/features.h"

namespace genre {

struct TrackFeatures {
  Spectrogram logmel;    // the model input excerpt: [n_mels, excerpt_frames]
  int valid_frames = 0;  // frames that hold signal (short files are zero-padded at the end)
  std::string error;     // non-empty when the file failed
  bool ok() const { return error.empty(); }
};

// $GENRE_CACHE, else $XDG_CACHE_HOME/genre, else ~/.cache/genre.
std::string default_cache_dir();

class FeatureCache {
 public:
  // dir empty: no caching.
  explicit FeatureCache(std::string dir) : dir_(std::move(dir)) {}

  // Excerpt log-mel of `path` (from the cache when present). Throws genre::Error on bad input.
  TrackFeatures get(const std::string& path, const FeatureConfig& config) const;
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

// 64-bit FNV-1a of a file's bytes, as 16 hex digits.
std::string file_content_hash(const std::string& path);

// Features for every path, `threads` workers (<= 0: all cores), with a progress bar labelled
// `label` (empty: none). Failed files have .error set and are reported on stderr.
std::vector<TrackFeatures> load_features(const std::vector<std::string>& paths,
                                         const FeatureConfig& config, const FeatureCache& cache,
                                         int threads, const std::string& label);

}  // namespace genre
