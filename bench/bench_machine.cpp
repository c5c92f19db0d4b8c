// The machine's physical limits, measured: the other benchmarks' stages are set against them in
// docs/benchmarks.md. Prints
//   - peak multiply-add rate: independent fused multiply-adds in registers (AVX-512, AVX2+FMA or
//     SSE, the widest this CPU has) on 1 thread and on every thread at once;
//   - memory bandwidth: LibTorch's sum (reading) and copy over 1 GiB with `threads` threads;
//   - the default CRNN's five 3x3 convs in training shapes (96 x `frames`, batch `batch`), with
//     genre's allocator settings: oneDNN's forward, input gradient and weight gradient as LibTorch
//     runs them, and genre's weight gradient (model/conv3x3.h), GMAC/s and share of the peak;
//   - the shipped model's 3x3 convs as `genre predict` runs them (one 29 s excerpt at 16 kHz,
//     channels-last, batch norm folded): oneDNN's direct forward against genre's Winograd one
//     (model/winograd_conv.h; the one-channel first block with its max-pool against
//     model/first_conv_pool.h), counted in the direct conv's multiply-adds, so that an algorithm
//     needing fewer of them can pass 100% of the peak.
//   bench_machine [threads=all] [frames=1366] [batch=32]
#include <immintrin.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.h"
#include "common/parallel.h"
#include "model/arch_config.h"
#include "model/conv3x3.h"
#include "model/first_conv_pool.h"
#include "model/winograd_conv.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Each kernel keeps 12 accumulators in flight (more than any FMA latency x throughput here) and
// returns a value that depends on all of them, so nothing is optimised away. MACs = iters x 12 x
// lanes.
__attribute__((target("avx512f"))) float fma_avx512(long iters) {
  __m512 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm512_set1_ps(static_cast<float>(i));
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (long n = 0; n < iters; ++n)
    for (auto& r : acc) r = _mm512_fmadd_ps(r, a, b);
  __m512 sum = acc[0];
  for (int i = 1; i < 12; ++i) sum = _mm512_add_ps(sum, acc[i]);
  alignas(64) float out[16];
  _mm512_store_ps(out, sum);
  return out[0] + out[15];
}

__attribute__((target("avx2,fma"))) float fma_avx2(long iters) {
  __m256 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_ps(static_cast<float>(i));
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (long n = 0; n < iters; ++n)
    for (auto& r : acc) r = _mm256_fmadd_ps(r, a, b);
  __m256 sum = acc[0];
  for (int i = 1; i < 12; ++i) sum = _mm256_add_ps(sum, acc[i]);
  alignas(32) float out[8];
  _mm256_store_ps(out, sum);
  return out[0] + out[7];
}

// Without FMA a multiply-add is two instructions; counted as one MAC.
float mul_add_sse(long iters) {
  __m128 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm_set1_ps(static_cast<float>(i));
  const __m128 a = _mm_set1_ps(0.999999f), b = _mm_set1_ps(1e-7f);
  for (long n = 0; n < iters; ++n)
    for (auto& r : acc) r = _mm_add_ps(_mm_mul_ps(r, a), b);
  __m128 sum = acc[0];
  for (int i = 1; i < 12; ++i) sum = _mm_add_ps(sum, acc[i]);
  return _mm_cvtss_f32(sum);
}

struct FmaKernel {
  const char* name;
  int lanes;
  float (*run)(long);
};

FmaKernel widest_kernel() {
  if (__builtin_cpu_supports("avx512f")) return {"AVX-512 FMA", 16, fma_avx512};
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return {"AVX2 FMA", 8, fma_avx2};
  return {"SSE mul+add", 4, mul_add_sse};
}

// GMAC/s of `threads` threads each running the kernel at once; best of 3.
double peak_gmacs(const FmaKernel& kernel, int threads) {
  const long iters = 20'000'000;
  double best = 0;
  for (int round = 0; round < 3; ++round) {
    std::vector<std::thread> pool;
    std::vector<float> sink(threads);
    const auto start = Clock::now();
    for (int t = 0; t < threads; ++t) pool.emplace_back([&, t] { sink[t] = kernel.run(iters); });
    for (auto& th : pool) th.join();
    const double s = seconds_since(start);
    if (sink[0] == 12345.f) std::printf(" ");  // keeps the results alive
    best = std::max(best, 1e-9 * threads * iters * 12.0 * kernel.lanes / s);
  }
  return best;
}

// GB/s reading (sum) and copying (bytes read + bytes written) 1 GiB with LibTorch's current thread
// count; best of 5.
std::pair<double, double> memory_bandwidth() {
  const int64_t n = (int64_t{1} << 30) / sizeof(float);
  torch::Tensor x = torch::rand({n});
  torch::Tensor y = torch::empty_like(x);
  y.copy_(x);
  double read = 0, copy = 0;
  for (int round = 0; round < 5; ++round) {
    auto start = Clock::now();
    volatile float s = x.sum().item<float>();
    (void)s;
    read = std::max(read, 1.0 * (n * 4) / seconds_since(start) * 1e-9);
    start = Clock::now();
    y.copy_(x);
    copy = std::max(copy, 2.0 * (n * 4) / seconds_since(start) * 1e-9);
  }
  return {read, copy};
}

// GMAC/s of one 3x3 conv block of the default CRNN in training shapes, best of 3 after one call
// that creates oneDNN's primitives: its forward, its input and weight gradients alone
// (LibTorch's convolution_backward, oneDNN), and genre's weight gradient (conv3x3.h; 0 where the
// CPU or the block does not suit it).
struct ConvRate {
  double forward = 0, input_grad = 0, weight_grad = 0, genre_weight_grad = 0;
};

template <typename F>
double best_seconds(F&& run) {
  double best = 1e30;
  for (int round = 0; round < 4; ++round) {
    const auto start = Clock::now();
    run();
    if (round > 0) best = std::min(best, seconds_since(start));
  }
  return best;
}

ConvRate conv_rate(int batch, int in_ch, int out_ch, int height, int width) {
  const torch::Tensor x = torch::randn({batch, in_ch, height, width});
  const torch::Tensor w = torch::randn({out_ch, in_ch, 3, 3});
  const torch::Tensor g = torch::randn({batch, out_ch, height, width});
  const double gmac = 1e-9 * batch * out_ch * height * width * in_ch * 9;
  const auto backward = [&](bool input, bool weight) {
    at::convolution_backward(g, x, w, c10::IntArrayRef{out_ch}, {1, 1}, {1, 1}, {1, 1}, false,
                             {0, 0}, 1, {input, weight, weight});
  };
  ConvRate r;
  r.forward = gmac / best_seconds([&] { torch::conv2d(x, w, {}, 1, 1); });
  r.input_grad = gmac / best_seconds([&] { backward(true, false); });
  r.weight_grad = gmac / best_seconds([&] { backward(false, true); });
  if (in_ch > 1 && genre::conv3x3_training_applies(x, w))
    r.genre_weight_grad = gmac / best_seconds([&] { genre::conv3x3_weight_gradient(x, g); });
  return r;
}

// Direct-conv GMAC/s of one inference conv (batch 1, channels-last): oneDNN's forward and
// genre's Winograd forward (0 where it does not apply). A one-channel first block is timed with
// its max-pool (`pool`): oneDNN's conv + LibTorch's max_pool2d against first_conv_pool.
std::pair<double, double> inference_conv_rate(int in_ch, int out_ch, int height, int width,
                                              int pool) {
  torch::NoGradGuard no_grad;
  const torch::Tensor x =
      torch::randn({1, in_ch, height, width}).contiguous(torch::MemoryFormat::ChannelsLast);
  const torch::Tensor w =
      torch::randn({out_ch, in_ch, 3, 3}).contiguous(torch::MemoryFormat::ChannelsLast);
  const torch::Tensor b = torch::randn({out_ch});
  const double gmac = 1e-9 * out_ch * height * width * in_ch * 9;
  if (in_ch == 1) {
    // NHWC strides, as the inference form gives its one-channel input (crnn.cpp): with NCHW ones
    // oneDNN writes an NCHW output, which max_pool2d pools ~4x slower.
    const torch::Tensor x1 = x.as_strided(x.sizes(), {height * width, 1, width, 1});
    const double direct =
        gmac / best_seconds([&] { torch::max_pool2d(torch::conv2d(x1, w, b, 1, 1), {pool, pool}); });
    if (!genre::first_conv_pool_applies(x, w)) return {direct, 0.0};
    return {direct, gmac / best_seconds([&] { genre::first_conv_pool(x, w, b, {pool, pool}); })};
  }
  const double direct = gmac / best_seconds([&] { torch::conv2d(x, w, b, 1, 1); });
  if (!genre::winograd_conv3x3_applies(x, w)) return {direct, 0.0};
  const torch::Tensor u = genre::winograd_weights(w);
  return {direct, gmac / best_seconds([&] { genre::winograd_conv3x3(x, u, b); })};
}

}  // namespace

int main(int argc, char** argv) {
  const int all = static_cast<int>(std::thread::hardware_concurrency());
  const int threads = argc > 1 ? std::atoi(argv[1]) : all;
  const int frames = argc > 2 ? std::atoi(argv[2]) : 1366;
  const int batch = argc > 3 ? std::atoi(argv[3]) : 32;
  std::printf("%s\n", genre::bench::cpu_description().c_str());

  const FmaKernel kernel = widest_kernel();
  const double one = peak_gmacs(kernel, 1), many = peak_gmacs(kernel, threads);
  std::printf("peak multiply-adds (%s, float): 1 thread %.1f GMAC/s, %d threads %.1f GMAC/s\n",
              kernel.name, one, threads, many);

  torch::set_num_threads(threads);
  genre::tune_allocator_for_tensors();  // as genre train runs: big buffers reused, not faulted in
                                        // anew
  const auto [read, copy] = memory_bandwidth();
  std::printf(
      "memory bandwidth (%d threads, 1 GiB): read %.1f GB/s, copy %.1f GB/s (read + written)\n",
      threads, read, copy);

  const genre::ArchConfig arch = genre::arch_default_params();
  std::printf("\n3x3 convs of the default CRNN, batch %d x 96 x %d, %d threads: GMAC/s (share of "
              "the peak above)\n",
              batch, frames, threads);
  std::printf("%-5s %-15s %6s %14s %14s %14s %14s\n", "block", "shape", "GMAC", "forward",
              "input grad", "weight grad", "genre's wgrad");
  const auto cell = [&](double rate) {
    char text[32] = "-";
    if (rate > 0) std::snprintf(text, sizeof text, "%.1f (%.0f%%)", rate, 100 * rate / many);
    return std::string(text);
  };
  int in_ch = 1, height = arch.n_mels, width = frames;
  for (size_t i = 0; i < arch.channels.size(); ++i) {
    const int out_ch = arch.channels[i];
    const ConvRate r = conv_rate(batch, in_ch, out_ch, height, width);
    char shape[64];
    std::snprintf(shape, sizeof shape, "%d>%d %dx%d", in_ch, out_ch, height, width);
    std::printf("%-5zu %-15s %6.2f %14s %14s %14s %14s\n", i + 1, shape,
                1e-9 * batch * out_ch * height * width * in_ch * 9, cell(r.forward).c_str(),
                cell(r.input_grad).c_str(), cell(r.weight_grad).c_str(),
                cell(r.genre_weight_grad).c_str());
    in_ch = out_ch;
    height /= arch.pools[i].first;
    width /= arch.pools[i].second;
  }

  // The shipped model (models/genre-gtzan.pt): the MSD tagger's four blocks, 64-128-128-128
  // channels, pools 2/3/4/4, over 96 mels x 1,813 frames.
  std::printf("\n3x3 convs of the shipped model in genre predict, one 96 x 1813 excerpt, "
              "channels-last, %d threads: direct-conv GMAC/s (share of the peak); block 1 with "
              "its max-pool (genre: first_conv_pool)\n",
              threads);
  std::printf("%-5s %-15s %6s %14s %16s %8s\n", "block", "shape", "GMAC", "oneDNN",
              "genre", "ratio");
  const int shipped_channels[] = {64, 128, 128, 128}, shipped_pools[] = {2, 3, 4, 4};
  in_ch = 1, height = 96, width = 1813;
  for (int i = 0; i < 4; ++i) {
    const int out_ch = shipped_channels[i];
    const auto [direct, winograd] =
        inference_conv_rate(in_ch, out_ch, height, width, shipped_pools[i]);
    char shape[64], ratio[16] = "-";
    std::snprintf(shape, sizeof shape, "%d>%d %dx%d", in_ch, out_ch, height, width);
    if (winograd > 0) std::snprintf(ratio, sizeof ratio, "%.2fx", winograd / direct);
    std::printf("%-5d %-15s %6.3f %14s %16s %8s\n", i + 1, shape,
                1e-9 * out_ch * height * width * in_ch * 9, cell(direct).c_str(),
                cell(winograd).c_str(), ratio);
    in_ch = out_ch;
    height /= shipped_pools[i];
    width /= shipped_pools[i];
  }
  return 0;
}
