#include "predict/predictor.h"

#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "common/error.h"
#include "common/parallel.h"
#include "features/npy.h"
#include "model/inference.h"
#include "predict/streamed_segments.h"

namespace genre {

namespace fs = std::filesystem;

PredictParams predict_default_params() { return PredictParams{}; }

Predictor::Predictor(Model model, PredictParams params)
    : model_(std::move(model)), params_(params), device_(resolve_device(params.device)) {
  if (params_.batch_size < 1)
    throw Error(ErrorKind::kInvalidArgument, "", "batch size must be >= 1");
  model_.precision = parse_precision(params_.precision);
  const AutocastGuard check(model_.precision, device_);  // fp16 on the CPU fails here, early
  model_.net->to(device_);
  prepare_for_inference(model_.net);
}

namespace {

bool is_npy(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
  return ext == ".npy";
}

}  // namespace

struct Predictor::Item {
  Spectrogram logmel;
  int valid_frames = 0;
  Prediction result;
  bool streamed = false;  // a long file's segments, already computed by the decoder
  StreamedCrops crops;
};

// Runs the model on one batch of decoded inputs, filling in their probabilities (and segments).
void Predictor::infer(std::vector<Item>& batch, int batch_size) {
  // Excerpts of equal length go through the model together; segments per track.
  std::vector<std::size_t> group;
  auto flush_group = [&] {
    if (group.empty()) return;
    std::vector<const Spectrogram*> specs;
    std::vector<int> valid;
    for (auto g : group) specs.push_back(&batch[g].logmel), valid.push_back(batch[g].valid_frames);
    const torch::Tensor probs =
        track_probabilities(model_, specs, valid, batch_size, device_, params_.crop_policy);
    for (std::size_t j = 0; j < group.size(); ++j) {
      const float* row = probs[j].data_ptr<float>();
      batch[group[j]].result.probabilities.assign(row, row + probs.size(1));
    }
    group.clear();
  };
  for (std::size_t b = 0; b < batch.size(); ++b) {
    Item& item = batch[b];
    if (!item.result.ok()) continue;
    if (item.streamed) {
      set_segments(item.result, item.crops.probabilities, item.crops.offsets);
      item.crops = StreamedCrops{};
    } else if (params_.segments) {
      infer_segments(item, batch_size);
    } else {
      if (!group.empty() && batch[group[0]].logmel.n_frames != item.logmel.n_frames) flush_group();
      group.push_back(b);
    }
  }
  flush_group();
  for (auto& item : batch) item.logmel = Spectrogram{};
}

int Predictor::segment_hop_frames() const { return std::max(1, crop_frames() / 2); }

int Predictor::crop_frames() const {
  return model_.info.arch.input_frames > 0 ? model_.info.arch.input_frames
                                           : model_.info.features.excerpt_frames();
}

// Crops of the model's length every half crop over the whole track, then windows of them.
void Predictor::infer_segments(Item& item, int batch_size) {
  std::vector<int> offsets;
  const torch::Tensor probs = window_probabilities(model_, item.logmel, segment_hop_frames(),
                                                   batch_size, device_, &offsets);
  set_segments(item.result, probs, offsets);
}

void Predictor::set_segments(Prediction& result, const torch::Tensor& probs,
                             const std::vector<int>& offsets) const {
  const FeatureConfig& fc = model_.info.features;
  std::vector<std::vector<float>> crops;
  std::vector<double> starts;
  for (std::size_t w = 0; w < offsets.size(); ++w) {
    starts.push_back(offsets[w] * fc.seconds_per_frame());
    const float* row = probs[w].data_ptr<float>();
    crops.emplace_back(row, row + probs.size(1));
  }
  result.segments = segment_windows(crops, starts, crop_frames() * fc.seconds_per_frame(),
                                    result.seconds, params_.segment);
  const torch::Tensor mean = probs.mean(0);
  result.probabilities.assign(mean.data_ptr<float>(), mean.data_ptr<float>() + mean.numel());
}

void Predictor::run(const std::vector<std::string>& inputs,
                    const std::function<void(std::size_t, Prediction&)>& on_result) {
  const FeatureConfig& fc = model_.info.features;
  // On the CPU, each model worker runs whole batches with one LibTorch thread: no OpenMP team
  // whose spinning barrier collapses when other jobs share the cores. One input (or CUDA) gets
  // one worker with every thread instead.
  const int threads = params_.threads > 0 ? params_.threads : hardware_threads();
  const bool cpu = device_.is_cpu();
  // Decoding a track costs a few percent of its inference on the CPU, so half as many decoders as
  // threads keep the model workers fed (and each holds its buffers); a GPU needs them all.
  const int decoders = params_.jobs > 0 ? params_.jobs
                       : cpu            ? std::max(1, threads / 2)
                                        : hardware_threads();
  const int model_workers =
      cpu ? std::max(1, std::min<int>(threads, static_cast<int>(inputs.size()))) : 1;
  const int threads_per_worker = std::max(1, threads / model_workers);
  // The workers share --batch-size, so memory in the model stays what one batch needs.
  const int worker_batch = std::max(1, params_.batch_size / model_workers);
  // A worker takes the inputs of one model pass at a time (on the CPU one 29 s excerpt per pass,
  // whatever --batch-size says; tracks' segments go through the model a track at a time): inputs
  // taken wait, decoded, for their pass, so taking more only costs memory.
  const std::size_t take = static_cast<std::size_t>(
      params_.segments ? 1 : crops_per_pass(crop_frames(), worker_batch, device_));
  // Decoders may run at most this far ahead of the oldest unreported input: memory stays flat.
  const std::size_t window = (model_workers + 1) * take + 2 * decoders;

  std::mutex mutex;
  std::condition_variable cv;
  std::map<std::size_t, Item> decoded, finished;
  std::size_t next_claim = 0, next_take = 0, next_emit = 0;
  bool stop = false;
  std::exception_ptr failure;

  auto decoder = [&] {
    for (;;) {
      std::size_t i;
      {
        std::unique_lock<std::mutex> lock(mutex);
        cv.wait(lock, [&] {
          return stop || next_claim >= inputs.size() || next_claim < next_emit + window;
        });
        if (stop || next_claim >= inputs.size()) return;
        i = next_claim++;
      }
      Item item;
      item.result.input = inputs[i];
      try {
        if (is_npy(inputs[i])) {
          item.logmel = spectrogram_from_npy(inputs[i]);
          item.valid_frames = signal_frames(item.logmel);
        } else if (params_.segments && should_stream_segments(inputs[i])) {
          // A long file: its crops run here, a group at a time, instead of holding the track.
          item.crops = streamed_crop_probabilities(model_, inputs[i], segment_hop_frames(),
                                                   worker_batch, device_);
          item.streamed = true;
          item.valid_frames = item.crops.valid_frames;
        } else {
          item.logmel = extract_logmel(inputs[i], fc, params_.segments, &item.valid_frames);
        }
        if (!item.streamed && item.logmel.n_mels != model_.info.arch.n_mels)
          throw Error(ErrorKind::kUnsupportedFormat, inputs[i],
                      "has " + std::to_string(item.logmel.n_mels) +
                          " mel bins; the model expects " +
                          std::to_string(model_.info.arch.n_mels));
        item.result.seconds = item.valid_frames * fc.seconds_per_frame();
      } catch (const Error& e) {
        item.result.error = e.what();
        item.result.error_kind = error_kind_name(e.kind());
      } catch (const std::exception& e) {
        item.result.error = inputs[i] + ": " + e.what();
        item.result.error_kind = "internal";
      }
      {
        std::lock_guard<std::mutex> lock(mutex);
        decoded.emplace(i, std::move(item));
      }
      cv.notify_all();
    }
  };

  auto model_worker = [&] {
    torch::set_num_threads(threads_per_worker);  // OpenMP's thread count is per calling thread
    for (;;) {
      // Take the next run of consecutive decoded inputs (up to a batch) as soon as it is there.
      std::size_t first = 0;
      std::vector<Item> batch;
      {
        std::unique_lock<std::mutex> lock(mutex);
        cv.wait(lock,
                [&] { return stop || next_take >= inputs.size() || decoded.count(next_take); });
        if (stop || next_take >= inputs.size()) return;
        first = next_take;
        while (batch.size() < take && decoded.count(next_take))
          batch.push_back(std::move(decoded.extract(next_take++).mapped()));
      }
      try {
        infer(batch, worker_batch);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!failure) failure = std::current_exception();
        stop = true;
        cv.notify_all();
        return;
      }
      {
        std::lock_guard<std::mutex> lock(mutex);
        for (std::size_t j = 0; j < batch.size(); ++j)
          finished.emplace(first + j, std::move(batch[j]));
      }
      cv.notify_all();
    }
  };

  std::vector<std::thread> pool;
  for (int w = 0; w < decoders; ++w) pool.emplace_back(decoder);
  for (int w = 0; w < model_workers; ++w) pool.emplace_back(model_worker);
  auto shut_down = [&] {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stop = true;
    }
    cv.notify_all();
    for (auto& t : pool) t.join();
  };

  try {
    // Results are reported on this thread, in input order.
    while (next_emit < inputs.size()) {
      Item item;
      {
        std::unique_lock<std::mutex> lock(mutex);
        cv.wait(lock, [&] { return failure || finished.count(next_emit); });
        if (failure) std::rethrow_exception(failure);
        item = std::move(finished.extract(next_emit).mapped());
      }
      on_result(next_emit, item.result);
      {
        std::lock_guard<std::mutex> lock(mutex);
        ++next_emit;
      }
      cv.notify_all();
    }
  } catch (...) {
    shut_down();
    throw;
  }
  shut_down();
}

namespace {

// `name` in the shipped model folders, or empty.
std::string find_shipped_model(const std::string& name, const std::string& argv0) {
  std::vector<fs::path> candidates;
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) exe = fs::absolute(argv0, ec);
  const fs::path bin = exe.parent_path();
  candidates.push_back(bin / "../share/genre/models" / name);  // installed: PREFIX/bin/genre
  candidates.push_back(bin / "models" / name);                 // next to the binary
  candidates.push_back(bin / "../../models" / name);           // build tree: build/src/genre
#ifdef GENRE_SOURCE_MODELS_DIR
  candidates.push_back(fs::path(GENRE_SOURCE_MODELS_DIR) / name);
#endif
  for (const auto& c : candidates)
    if (fs::is_regular_file(c, ec)) return fs::weakly_canonical(c, ec).string();
  return "";
}

}  // namespace

std::string find_default_model(const std::string& argv0) {
  if (const char* env = std::getenv("GENRE_MODEL"); env && *env) return env;
  return find_shipped_model("genre-gtzan.pt", argv0);
}

std::string resolve_model_argument(const std::string& name_or_path) {
  std::error_code ec;
  if (name_or_path.empty() || fs::exists(name_or_path, ec) ||
      name_or_path.find('/') != std::string::npos)
    return name_or_path;
  const std::string file =
      fs::path(name_or_path).extension() == ".pt" ? name_or_path : name_or_path + ".pt";
  const std::string found = find_shipped_model(file, "");
  return found.empty() ? name_or_path : found;
}

}  // namespace genre
