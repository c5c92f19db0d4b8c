#include "data/feature_cache.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/parallel.h"
#include "common/progress.h"
#include "features/npy.h"

namespace genre {

namespace fs = std::filesystem;

std::string default_cache_dir() {
  if (const char* env = std::getenv("GENRE_CACHE"); env && *env) return env;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    return std::string(xdg) + "/genre";
  if (const char* home = std::getenv("HOME"); home && *home)
    return std::string(home) + "/.cache/genre";
  return ".genre-cache";
}

std::string file_content_hash(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorKind::kNotFound, path, "cannot open");
  std::uint64_t h = 1469598103934665603ull;
  std::vector<char> buf(1 << 16);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const std::streamsize n = in.gcount();
    for (std::streamsize i = 0; i < n; ++i) {
      h ^= static_cast<unsigned char>(buf[i]);
      h *= 1099511628211ull;
    }
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

TrackFeatures FeatureCache::get(const std::string& path, const FeatureConfig& config) const {
  TrackFeatures out;
  std::string base;
  if (!dir_.empty()) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
      out.logmel =
          extract_logmel(path, config, false, &out.valid_frames);  // throws the right error
      return out;
    }
    const fs::path sub = fs::path(dir_) / feature_config_digest(config);
    base = (sub / file_content_hash(path)).string();
    if (fs::exists(base + ".npy", ec) && fs::exists(base + ".json", ec)) {
      try {
        out.logmel = spectrogram_from_npy(base + ".npy");
        std::ifstream meta(base + ".json");
        out.valid_frames = nlohmann::json::parse(meta).at("valid_frames").get<int>();
        if (out.logmel.n_mels == config.n_mels && out.logmel.n_frames == config.excerpt_frames())
          return out;
      } catch (const std::exception&) {
        // A damaged cache entry is recomputed below.
      }
    }
    make_directories(sub.string());
  }
  out.logmel = extract_logmel(path, config, false, &out.valid_frames);
  if (!base.empty()) {
    // The .json is written first: an entry counts only once its .npy exists.
    write_file_atomically(base + ".json", [&](std::ostream& o) {
      o << nlohmann::json{{"valid_frames", out.valid_frames}, {"source", path}}.dump();
    });
    write_npy(base + ".npy", out.logmel);
  }
  return out;
}

std::vector<TrackFeatures> load_features(const std::vector<std::string>& paths,
                                         const FeatureConfig& config, const FeatureCache& cache,
                                         int threads, const std::string& label) {
  std::vector<TrackFeatures> out(paths.size());
  Progress progress(label, paths.size(), label.empty() ? 0 : -1);
  parallel_for(paths.size(), threads, [&](std::size_t i) {
    try {
      out[i] = cache.get(paths[i], config);
    } catch (const std::exception& e) {
      out[i].error = e.what();
      progress.message("genre: skipping " + std::string(e.what()));
    }
    progress.tick();
  });
  progress.finish();
  return out;
}

}  // namespace genre
