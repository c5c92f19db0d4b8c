// genre features: audio files -> log-mel .npy files.
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "cli/commands.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "common/parallel.h"
#include "common/progress.h"
#include "data/inputs.h"
#include "features/features.h"
#include "features/npy.h"
#include "predict/resume.h"

namespace genre::cli {

namespace {

struct FeaturesOptions {
  std::vector<std::string> inputs;
  std::string out_dir;
  int jobs = 0;
  bool whole = false;
  std::string format = "npy";
  std::string config_path;
  std::string shard;
  bool quiet = false;
};

// Inputs of shard I of N (the same split genre predict --shard makes).
std::vector<InputFile> shard_of(std::vector<InputFile> inputs, const std::string& shard) {
  const auto [index, count] = parse_shard(shard);
  std::vector<std::string> paths;
  for (const auto& in : inputs) paths.push_back(in.path);
  const auto chosen = select_shard(paths, index, count);
  const std::set<std::string> keep(chosen.begin(), chosen.end());
  inputs.erase(std::remove_if(inputs.begin(), inputs.end(),
                              [&](const InputFile& in) { return !keep.count(in.path); }),
               inputs.end());
  return inputs;
}

int run_features(const FeaturesOptions& opt) {
  FeatureConfig config = feature_default_params();
  if (!opt.config_path.empty()) {
    std::ifstream in(opt.config_path);
    if (!in)
      throw Error(ErrorKind::kInvalidArgument, opt.config_path, "cannot open feature config");
    try {
      config = nlohmann::json::parse(in).get<FeatureConfig>();
    } catch (const nlohmann::json::exception& e) {
      throw Error(ErrorKind::kInvalidArgument, opt.config_path, e.what());
    }
  }
  config.validate();
  std::vector<InputFile> inputs = expand_inputs(opt.inputs, std::cin);
  if (!opt.shard.empty()) inputs = shard_of(std::move(inputs), opt.shard);
  if (inputs.empty()) {
    std::cerr << "genre features: no audio files found in the inputs\n";
    return kExitSomeFailed;
  }
  make_directories(opt.out_dir);

  // Two inputs must never write the same output file.
  std::vector<std::string> outputs(inputs.size());
  std::map<std::string, std::size_t> claimed;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    outputs[i] =
        (std::filesystem::path(opt.out_dir) / replace_extension(inputs[i].relative, ".npy"))
            .string();
    if (inputs[i].problem.empty() && !claimed.emplace(outputs[i], i).second) outputs[i].clear();
  }

  // A run killed mid-write leaves temporary files beside the outputs: clear them away.
  std::set<std::string> output_dirs;
  for (const auto& o : outputs)
    if (!o.empty()) output_dirs.insert(std::filesystem::path(o).parent_path().string());
  for (const auto& d : output_dirs) remove_stale_temporaries(d);

  Progress progress("features", inputs.size(), opt.quiet ? 0 : -1);
  std::atomic<std::size_t> failed{0};
  parallel_for(inputs.size(), opt.jobs, [&](std::size_t i) {
    try {
      if (!inputs[i].problem.empty())
        throw Error(ErrorKind::kUnreadable, inputs[i].path, inputs[i].problem);
      if (outputs[i].empty())
        throw Error(
            ErrorKind::kInvalidArgument, inputs[i].path,
            "another input already writes " + replace_extension(inputs[i].relative, ".npy"));
      const Spectrogram s = extract_logmel(inputs[i].path, config, opt.whole);
      make_directories(std::filesystem::path(outputs[i]).parent_path().string());
      write_npy(outputs[i], s);
    } catch (const Error& e) {
      failed.fetch_add(1);
      progress.message("genre features: error: " + std::string(e.what()) + " [" +
                       error_kind_name(e.kind()) + "]");
    } catch (const std::exception& e) {
      failed.fetch_add(1);
      progress.message("genre features: error: " + inputs[i].path + ": " + e.what());
    }
    progress.tick();
  });
  progress.finish();
  if (!opt.quiet)
    std::cerr << "genre features: wrote " << inputs.size() - failed << " of " << inputs.size()
              << " files to " << opt.out_dir
              << (failed ? ", " + std::to_string(failed) + " failed" : "") << "\n";
  return failed ? kExitSomeFailed : kExitOk;
}

}  // namespace

void add_features_command(CLI::App& app, std::vector<Command>& commands) {
  auto opt = std::make_shared<FeaturesOptions>();
  CLI::App* sub = app.add_subcommand(
      "features",
      "Compute librosa-compatible log-mel spectrograms and write one float32 .npy per input\n"
      "(shape [96, 1366]: the middle 29.12 s; with --whole, [96, frames] of the whole track).");
  sub->add_option(
         "inputs", opt->inputs,
         "Audio files, directories (searched recursively), @list.txt, or - for paths on stdin")
      ->required();
  sub->add_option("-o,--out", opt->out_dir, "Output directory (created if missing)")->required();
  sub->add_option("-j,--jobs", opt->jobs, "Parallel worker threads (default: all cores)")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--shard", opt->shard,
                  "Process only shard I of N (I/N), e.g. $((SLURM_ARRAY_TASK_ID+1))/N; N shards "
                  "cover every input once");
  sub->add_flag("--whole", opt->whole, "Whole track instead of the middle 29.12 s excerpt");
  sub->add_option("--format", opt->format, "Output format")
      ->check(CLI::IsMember({"npy"}))
      ->default_val("npy");
  sub->add_option("--config", opt->config_path,
                  "Feature config JSON (as stored in model files) instead of the defaults");
  sub->add_flag("-q,--quiet", opt->quiet, "No progress bar or summary (errors are still printed)");
  sub->footer(
      "Exit status: 0 all written, 1 some inputs failed (one error line each on stderr; the\n"
      "others are still written), 2 usage error. Outputs keep the inputs' relative paths.");
  commands.push_back({sub, [opt] { return run_features(*opt); }});
}

}  // namespace genre::cli
