// Model speed: training and inference samples/s of the default CRNN at 96 x FRAMES, batch 32,
// next to the same model in PyTorch (Python, Debian python3-torch) measured in the same run.
// PyTorch runs at its best: under each BLAS found and with glibc's default and genre's allocator
// settings (bench::python_environments), keeping each measure's fastest.
//   bench_model [frames=1366] [batch=32] [threads=2] [steps=2]
#include <torch/csrc/autograd/profiler_legacy.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "bench_support.h"
#include "common/parallel.h"
#include "model/crnn.h"
#include "model/precision.h"

namespace {

using namespace genre;
using Clock = std::chrono::steady_clock;

// `trace`: write a LibTorch profiler trace (chrome://tracing JSON) of the last step there.
double train_rate(int frames, int batch, int steps, bool channels_last,
                  Precision precision = Precision::kFp32, const char* trace = nullptr) {
  torch::manual_seed(0);
  Crnn net(arch_default_params());
  if (channels_last) to_channels_last(net);
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(1e-3));
  torch::Tensor x = torch::randn({batch, 1, 96, frames});
  if (channels_last) x = x.contiguous(torch::MemoryFormat::ChannelsLast);
  const torch::Tensor y = torch::randint(0, 10, {batch}, torch::kLong);
  net->train();
  std::unique_ptr<torch::autograd::profiler::RecordProfile> profile;
  Clock::time_point start;
  for (int i = 0; i <= steps; ++i) {
    if (i == 1) start = Clock::now();  // the first step warms up allocators and kernels
    if (i == steps && trace && *trace)
      profile = std::make_unique<torch::autograd::profiler::RecordProfile>(trace);
    torch::Tensor loss;
    {
      const AutocastGuard amp(precision, torch::kCPU);
      loss = torch::nn::functional::cross_entropy(net->forward(x).to(torch::kFloat32), y);
    }
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  profile.reset();
  return steps * batch / seconds;
}

enum class InferForm { kPlain, kChannelsLast, kPrepared };

double infer_rate(int frames, int batch, int steps, InferForm form) {
  torch::manual_seed(0);
  Crnn net(arch_default_params());
  net->eval();
  if (form == InferForm::kChannelsLast) to_channels_last(net);
  if (form == InferForm::kPrepared) prepare_for_inference(net);  // what genre predict runs
  torch::Tensor x = torch::randn({batch, 1, 96, frames});
  if (form != InferForm::kPlain) x = x.contiguous(torch::MemoryFormat::ChannelsLast);
  torch::InferenceMode guard;
  net->forward(x);
  const auto start = Clock::now();
  for (int i = 0; i < steps; ++i) net->forward(x);
  return steps * batch / std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const int frames = argc > 1 ? std::atoi(argv[1]) : 1366;
  const int batch = argc > 2 ? std::atoi(argv[2]) : 32;
  const int threads = argc > 3 ? std::atoi(argv[3]) : 2;
  const int steps = argc > 4 ? std::atoi(argv[4]) : 2;
  torch::set_num_threads(threads);
  std::printf("%s\n", genre::bench::cpu_description().c_str());
  std::printf("default CRNN, input 96 x %d, batch %d, %d threads, %d timed steps\n", frames, batch,
              threads, steps);

  // Levers, each measured: glibc's default allocator (what a plain LibTorch program gets), then
  // the allocator tuned as the genre CLI does, then channels_last on top.
  const double train_plain = train_rate(frames, batch, steps, false);
  const double infer_plain = infer_rate(frames, batch, steps, InferForm::kPlain);
  tune_allocator_for_tensors();
  // GENRE_BENCH_TRACE=FILE: a profiler trace of a training step as the genre CLI runs it (and
  // FILE.cl of one with channels_last).
  const char* trace = std::getenv("GENRE_BENCH_TRACE");
  const double train = train_rate(frames, batch, steps, false, Precision::kFp32, trace);
  const std::string trace_cl = trace && *trace ? trace + std::string(".cl") : "";
  const double train_cl = train_rate(frames, batch, steps, true, Precision::kFp32,
                                     trace_cl.empty() ? nullptr : trace_cl.c_str());
  const double infer = infer_rate(frames, batch, steps, InferForm::kPlain);
  const double infer_cl = infer_rate(frames, batch, steps, InferForm::kChannelsLast);
  const double infer_prepared = infer_rate(frames, batch, steps, InferForm::kPrepared);

  // Each measure's fastest over the baseline's environments.
  nlohmann::json base;
  if (bench::python_has("torch")) {
    const std::string args = std::to_string(frames) + " " + std::to_string(batch) + " " +
                             std::to_string(threads) + " " + std::to_string(steps);
    for (const auto& [name, env] : bench::python_environments()) {
      const nlohmann::json r = bench::run_json("cd " GENRE_BENCH_PYTHON_DIR " && " + env +
                                               "/usr/bin/python3 baseline_model.py " + args);
      if (r.is_null()) continue;
      std::printf("PyTorch with %s: %s\n", name.c_str(), r.dump().c_str());
      if (base.is_null()) base = nlohmann::json::object();
      for (const auto& [key, value] : r.items())
        base[key] = std::max(base.value(key, 0.0), value.get<double>());
    }
  }
  // Without AVX512-BF16 (or AMX) bf16 runs emulated, 10x slower than fp32: not worth timing.
  const bool bf16_hardware = bench::cpu_has("avx512_bf16") || bench::cpu_has("amx_bf16");
  const double train_bf16 =
      bf16_hardware ? train_rate(frames, batch, steps, true, Precision::kBf16) : 0.0;
  if (base.is_null()) {
    std::printf(
        "training %.2f samples/s (default allocator %.2f, channels_last %.2f, bf16 %.2f), "
        "inference %.2f (channels_last %.2f, inference form %.2f); no PyTorch baseline (Debian "
        "python3-torch)\n",
        train, train_plain, train_cl, train_bf16, infer, infer_cl, infer_prepared);
    return 0;
  }
  std::printf("samples/s; ratio = genre / PyTorch Python (higher is faster)\n");
  const double py_train = base["train"], py_cl = base["train_channels_last"],
               py_bf16 = base["train_bf16"], py_infer = base["infer"];
  bench::print_ratio("training, default allocator", train_plain, py_train, "/s", true);
  bench::print_ratio("training (genre CLI setup)", train, py_train, "/s", true);
  bench::print_ratio("training, channels_last", train_cl, py_train, "/s", true);
  bench::print_ratio("training vs Python's best fp32", std::max(train, train_cl),
                     std::max(py_train, py_cl), "/s", true);
  if (py_bf16 > 0)
    bench::print_ratio("training bf16 vs Python bf16", train_bf16, py_bf16, "/s", true);
  if (bf16_hardware)
    bench::print_ratio("training bf16 vs Python's best fp32", train_bf16, std::max(py_train, py_cl),
                       "/s", true);
  else
    std::printf("(no bf16 rows: this CPU has no AVX512-BF16 or AMX)\n");
  bench::print_ratio("inference, default allocator", infer_plain, py_infer, "/s", true);
  bench::print_ratio("inference (genre CLI setup)", infer, py_infer, "/s", true);
  bench::print_ratio("inference, channels_last", infer_cl, py_infer, "/s", true);
  bench::print_ratio("inference form (BN folded, pool before ELU)", infer_prepared, py_infer, "/s",
                     true);
  return 0;
}
