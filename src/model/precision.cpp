#include "model/precision.h"

#include <ATen/autocast_mode.h>

#include "common/error.h"

namespace genre {

Precision parse_precision(const std::string& name) {
  if (name == "fp32") return Precision::kFp32;
  if (name == "bf16") return Precision::kBf16;
  if (name == "fp16") return Precision::kFp16;
  throw Error(ErrorKind::kInvalidArgument, "", "precision must be fp32, bf16 or fp16: " + name);
}

const char* precision_name(Precision p) {
  switch (p) {
    case Precision::kBf16:
      return "bf16";
    case Precision::kFp16:
      return "fp16";
    case Precision::kFp32:
      break;
  }
  return "fp32";
}

// The LibTorch 1.13 autocast calls (still present in 2.x): what torch.autocast does in Python.
AutocastGuard::AutocastGuard(Precision precision, torch::Device device) {
  if (precision == Precision::kFp32) return;
  if (precision == Precision::kFp16 && !device.is_cuda())
    throw Error(ErrorKind::kInvalidArgument, "", "fp16 runs on CUDA only; use bf16 on the CPU");
  active_ = true;
  cuda_ = device.is_cuda();
  const at::ScalarType dtype = precision == Precision::kBf16 ? at::kBFloat16 : at::kHalf;
  if (cuda_) {
    was_enabled_ = at::autocast::is_enabled();
    previous_dtype_ = at::autocast::get_autocast_gpu_dtype();
    at::autocast::set_autocast_gpu_dtype(dtype);
    at::autocast::set_enabled(true);
  } else {
    was_enabled_ = at::autocast::is_cpu_enabled();
    previous_dtype_ = at::autocast::get_autocast_cpu_dtype();
    at::autocast::set_autocast_cpu_dtype(dtype);
    at::autocast::set_cpu_enabled(true);
  }
  at::autocast::increment_nesting();
}

AutocastGuard::~AutocastGuard() {
  if (!active_) return;
  // Casts of the weights are cached while autocast is on; drop them with the outermost guard.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  if (cuda_) {
    at::autocast::set_enabled(was_enabled_);
    at::autocast::set_autocast_gpu_dtype(previous_dtype_);
  } else {
    at::autocast::set_cpu_enabled(was_enabled_);
    at::autocast::set_autocast_cpu_dtype(previous_dtype_);
  }
}

}  // namespace genre
