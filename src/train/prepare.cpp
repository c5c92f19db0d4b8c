#include "train/prepare.h"

#include <filesystem>

#include "common/error.h"

namespace genre {

std::vector<Example> PreparedData::select(const std::vector<std::size_t>& indices) const {
  std::vector<Example> out;
  for (auto i : indices)
    if (examples[i].logmel) out.push_back(examples[i]);
  return out;
}

std::vector<std::size_t> PreparedData::all_indices() const {
  std::vector<std::size_t> v(dataset.tracks.size());
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = i;
  return v;
}

SplitSpec SplitSpec::parse(const std::string& text, std::uint64_t seed, double valid_fraction,
                           double test_fraction) {
  SplitSpec s;
  s.seed = seed;
  s.valid_fraction = valid_fraction;
  s.test_fraction = test_fraction;
  if (text == "auto" || text == "random" || text == "manifest" || text == "none") {
    s.kind = text;
  } else if (std::filesystem::is_directory(text)) {
    s.kind = "lists";
    s.lists_dir = text;
  } else {
    throw Error(ErrorKind::kInvalidArgument, text,
                "--split must be auto, random, manifest, none or a directory of split lists");
  }
  if (valid_fraction < 0 || test_fraction < 0 || valid_fraction + test_fraction >= 1)
    throw Error(ErrorKind::kInvalidArgument, "",
                "split fractions must be >= 0 and sum to less than 1");
  return s;
}

nlohmann::json SplitSpec::to_json() const {
  return {{"kind", kind},
          {"lists_dir", lists_dir},
          {"valid_fraction", valid_fraction},
          {"test_fraction", test_fraction},
          {"seed", seed}};
}

SplitSpec SplitSpec::from_json(const nlohmann::json& j) {
  SplitSpec s;
  s.kind = j.value("kind", s.kind);
  s.lists_dir = j.value("lists_dir", s.lists_dir);
  s.valid_fraction = j.value("valid_fraction", s.valid_fraction);
  s.test_fraction = j.value("test_fraction", s.test_fraction);
  s.seed = j.value("seed", s.seed);
  return s;
}

std::string apply_split(Dataset& dataset, const SplitSpec& spec) {
  std::string kind = spec.kind;
  if (kind == "auto") {
    bool has_manifest_splits = false;
    for (const auto& t : dataset.tracks) has_manifest_splits |= !t.split.empty();
    kind = has_manifest_splits ? "manifest" : "random";
  }
  std::string report;
  if (kind == "lists") {
    const SplitReport r = apply_split_lists(dataset, spec.lists_dir);
    report = "split lists " + spec.lists_dir + ": " + std::to_string(r.matched) + " of " +
             std::to_string(r.listed) + " listed tracks found";
    if (!r.missing.empty()) {
      report +=
          ", " + std::to_string(r.missing.size()) + " missing (e.g. " + r.missing.front() + ")";
    }
    std::size_t unlisted = 0;
    for (const auto& t : dataset.tracks) unlisted += t.split.empty();
    if (unlisted) report += "; " + std::to_string(unlisted) + " tracks in no list are not used";
  } else if (kind == "random") {
    stratified_split(dataset, spec.valid_fraction, spec.test_fraction, spec.seed);
    report = "stratified random split (seed " + std::to_string(spec.seed) + ")";
  } else if (kind == "none") {
    for (auto& t : dataset.tracks) t.split = "train";
    report = "no split: every track is used for training";
  } else {
    report = "splits from the manifest";
  }
  report += ": train " + std::to_string(dataset.indices_of_split("train").size()) + ", valid " +
            std::to_string(dataset.indices_of_split("valid").size()) + ", test " +
            std::to_string(dataset.indices_of_split("test").size());
  return report;
}

PreparedData prepare_data(const std::string& path, const std::vector<std::string>& classes,
                          const FeatureConfig& config, const FeatureCache& cache, int threads,
                          bool quiet) {
  PreparedData d;
  d.dataset = load_dataset(path, classes);
  std::vector<std::string> paths;
  for (const auto& t : d.dataset.tracks) paths.push_back(t.path);
  d.features = load_features(paths, config, cache, threads, quiet ? "" : "features");
  d.examples.resize(d.features.size());
  for (std::size_t i = 0; i < d.features.size(); ++i) {
    if (!d.features[i].ok()) {
      ++d.failed;
      continue;
    }
    d.examples[i].logmel = &d.features[i].logmel;
    d.examples[i].valid_frames = d.features[i].valid_frames;
    d.examples[i].labels = d.dataset.tracks[i].labels;
  }
  return d;
}

}  // namespace genre
