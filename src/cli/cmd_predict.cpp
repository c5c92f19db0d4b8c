// genre predict: genres for songs, folders and whole collections.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "cli/commands.h"
#include "cli/options.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "common/progress.h"
#include "data/inputs.h"
#include "model/inference.h"
#include "predict/output.h"
#include "predict/predictor.h"
#include "predict/resume.h"
#include "predict/timeline.h"

namespace genre::cli {

namespace {

struct PredictOptions {
  std::vector<std::string> inputs;
  std::string model, out, shard, plot;
  bool json = false, jsonl = false, csv = false, resume = false, quiet = false;
  OutputOptions output;
  PredictParams params = predict_default_params();
};

int run_predict(PredictOptions& o) {
  if (static_cast<int>(o.json) + o.jsonl + o.csv > 1)
    throw Error(ErrorKind::kInvalidArgument, "", "choose one of --json, --jsonl, --csv");
  if (o.resume && (!o.jsonl || o.out.empty()))
    throw Error(ErrorKind::kInvalidArgument, "", "--resume needs --jsonl and -o FILE");
  if (!o.plot.empty() && !o.params.segments)
    throw Error(ErrorKind::kInvalidArgument, "", "--plot draws genre over time: add --segments");
  if (o.params.segment.window_seconds <= 0)
    throw Error(ErrorKind::kInvalidArgument, "", "--segment-seconds must be > 0");
  if (o.output.top_k < 1) throw Error(ErrorKind::kInvalidArgument, "", "--top-k must be >= 1");
  o.model = resolve_model_argument(o.model);
  if (o.model.empty()) {
    o.model = find_default_model("");
    if (o.model.empty())
      throw Error(
          ErrorKind::kNotFound, "genre-gtzan.pt",
          "no model given and the shipped model was not found; use --model or set GENRE_MODEL");
  }

  std::vector<std::string> paths;
  std::vector<Prediction> problems;  // found in folders but unusable (symlink loops, ...)
  for (const auto& f : expand_inputs(o.inputs, std::cin, {".npy"})) {
    if (f.problem.empty()) {
      paths.push_back(f.path);
    } else {
      problems.emplace_back();
      problems.back().input = f.path;
      problems.back().error = f.path + ": " + f.problem;
      problems.back().error_kind = error_kind_name(ErrorKind::kUnreadable);
    }
  }
  if (!o.shard.empty()) {
    const auto [index, count] = parse_shard(o.shard);
    paths = select_shard(paths, index, count);
  }
  std::set<std::string> done;
  if (o.resume) done = repair_jsonl_and_list_inputs(o.out);
  if (!done.empty()) {
    std::vector<std::string> todo;
    for (auto& p : paths)
      if (!done.count(p)) todo.push_back(p);
    if (!o.quiet)
      std::cerr << "resume: " << paths.size() - todo.size() << " inputs already in " << o.out
                << "\n";
    paths = std::move(todo);
  }

  Predictor predictor(load_model(o.model, resolve_device(o.params.device)), o.params);
  const ModelInfo& info = predictor.model().info;

  // Streaming formats go straight to their destination; whole documents are written atomically.
  std::ofstream file;
  std::ostringstream buffer;
  std::ostream* out = &std::cout;
  if (!o.out.empty()) {
    if (o.jsonl) {
      file.open(o.out, o.resume ? std::ios::app : std::ios::trunc);
      if (!file) throw Error(ErrorKind::kIo, o.out, "cannot open for writing");
      out = &file;
    } else {
      out = &buffer;
    }
  }
  if (o.csv) *out << csv_header(o.output);
  nlohmann::json document;
  if (o.json) {
    document = prediction_document_header(info, o.model);
    document["predictions"] = nlohmann::json::array();
  }

  Progress progress("predict", paths.size() + problems.size(),
                    o.quiet || (o.out.empty() && isatty(STDOUT_FILENO)) ? 0 : -1);
  std::size_t failed = 0;
  // Paths that are not valid UTF-8 are written with U+FFFD in JSON instead of aborting the run.
  const auto json_text = [](const nlohmann::json& j, int indent) {
    return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  const auto emit = [&](std::size_t, Prediction& p) {
    if (!p.ok()) {
      ++failed;
      progress.message("genre predict: error: " + p.error + " [" + p.error_kind + "]");
    }
    if (o.json) {
      document["predictions"].push_back(prediction_record(p, info, o.output));
    } else if (o.jsonl) {
      *out << json_text(prediction_record(p, info, o.output), -1) << "\n" << std::flush;
      if (!*out) throw Error(ErrorKind::kIo, o.out, "write failed (disk full?)");
    } else if (o.csv) {
      *out << csv_row(p, info, o.output);
    } else {
      *out << table_row(p, info, o.output) << std::flush;
    }
    if (!o.plot.empty() && p.ok()) {
      std::string target = o.plot;
      if (paths.size() > 1) {
        const std::filesystem::path pp(o.plot);
        target = (pp.parent_path() /
                  (pp.stem().string() + "." + std::filesystem::path(p.input).stem().string() +
                   pp.extension().string()))
                     .string();
      }
      plot_segments(p, info, target);
    }
    progress.tick();
  };
  for (auto& p : problems)
    if (!o.resume || !done.count(p.input)) emit(0, p);
  predictor.run(paths, emit);
  progress.finish();
  if (o.json) *out << json_text(document, 2) << "\n";
  if (!o.out.empty() && !o.jsonl) {
    write_file_atomically(o.out, [&](std::ostream& f) { f << buffer.str(); });
  }
  if (file.is_open()) {
    file.close();
    if (file.fail()) throw Error(ErrorKind::kIo, o.out, "write failed");
  }
  if (!o.quiet && failed)
    std::cerr << "genre predict: " << failed << " of " << paths.size() + problems.size()
              << " inputs failed\n";
  return failed ? kExitSomeFailed : kExitOk;
}

}  // namespace

void add_predict_command(CLI::App& app, std::vector<Command>& commands) {
  auto o = std::make_shared<PredictOptions>();
  CLI::App* sub =
      app.add_subcommand("predict", "Predict the genre of songs, folders or whole collections");
  sub->add_option(
         "inputs", o->inputs,
         "Audio files, directories (recursive), @list.txt, - (paths on stdin), or .npy log-mels")
      ->required();
  sub->add_option("-m,--model", o->model,
                  "Model file, or the name of a shipped model (genre-gtzan, msd-tags, "
                  "jamendo-tags); default: genre-gtzan");
  sub->add_option("-o,--out", o->out, "Write results to FILE instead of stdout");
  sub->add_flag("--json", o->json, "One JSON document (schema: docs/predict-output.md)");
  sub->add_flag("--jsonl", o->jsonl, "One JSON object per input, streamed as results come");
  sub->add_flag("--csv", o->csv, "CSV: input, ok, top-k labels and probabilities, error");
  sub->add_option("-k,--top-k", o->output.top_k, "How many labels per input")->default_val(3);
  sub->add_option("--threshold", o->output.threshold,
                  "Multi-label models: only labels with p >= T");
  sub->add_flag("--segments", o->params.segments,
                "Genre over time: windows over the whole track, each the mean of the model's "
                "crops inside it; one line per window");
  sub->add_option("--segment-seconds", o->params.segment.window_seconds,
                  "With --segments: window length in seconds (at least one model crop)")
      ->default_val(10);
  sub->add_option("--segment-hop", o->params.segment.hop_seconds,
                  "With --segments: seconds between windows (default: half a window)");
  sub->add_option("--segment-smooth", o->params.segment.smooth,
                  "With --segments: average each window with N neighbours either side")
      ->default_val(0)
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--plot", o->plot, "With --segments: picture of genre over time (.svg or .png)");
  sub->add_option("--batch-size", o->params.batch_size, "Inference batch size")->default_val(16);
  sub->add_flag_callback(
      "--independent-crops", [o] { o->params.crop_policy = CropPolicy::kIndependent; },
      "Run each crop through the whole model, exactly as in training (about 2x slower; by default "
      "overlapping crops share their convolutions)");
  sub->add_option("-j,--jobs", o->params.jobs, "Decoding threads (default: half of --threads on the CPU, all cores with CUDA)");
  sub->add_option("--threads", o->params.threads,
                  "Model threads (default: all cores); on the CPU each runs whole batches");
  add_device_option(sub, o->params.device);
  add_precision_option(sub, o->params.precision);
  sub->add_option("--shard", o->shard,
                  "Process only shard I of N (I/N), e.g. $((SLURM_ARRAY_TASK_ID+1))/N");
  sub->add_flag("--resume", o->resume,
                "With --jsonl -o FILE: skip inputs already in FILE (repairs a torn last line)");
  sub->add_flag("-q,--quiet", o->quiet, "No progress bar or summary");
  sub->footer(
      "Exit status: 0 all inputs classified, 1 some failed (one error line each on stderr and an "
      "error\n"
      "record in the output; the others are still classified), 2 usage error.\n"
      "Examples:\n"
      "  genre predict song.mp3\n"
      "  genre predict ~/Music --jsonl -o music.jsonl --resume\n"
      "  genre predict --segments --plot timeline.png song.mp3   # 10 s windows every 5 s");
  commands.push_back({sub, [o] { return run_predict(*o); }});
}

}  // namespace genre::cli
