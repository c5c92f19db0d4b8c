// genre/model: the arithmetic a model runs in. fp32 by default; bf16 autocast (convolutions and
// matrix products in bfloat16, reductions and the GRU state in fp32) is about twice as fast on
// CPUs with AVX512-BF16 or AMX and on recent GPUs; fp16 autocast is for CUDA inference only.
#pragma once

#include <torch/torch.h>

#include <string>

namespace genre {

enum class Precision { kFp32, kBf16, kFp16 };

// "fp32", "bf16" or "fp16"; throws Error(kInvalidArgument) otherwise.
Precision parse_precision(const std::string& name);
const char* precision_name(Precision p);

// Turns LibTorch's autocast on for `device` while alive (this thread only); a no-op for fp32.
// Throws Error(kInvalidArgument) for fp16 on the CPU.
class AutocastGuard {
 public:
  AutocastGuard(Precision precision, torch::Device device);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  bool active_ = false, cuda_ = false, was_enabled_ = false;
  at::ScalarType previous_dtype_ = at::kFloat;
};

}  // namespace genre
