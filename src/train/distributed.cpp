#include "train/distributed.h"

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
// NCCL for CUDA tensors, in builds against a LibTorch with CUDA and NCCL (GENRE_NCCL in CMake).
#ifdef USE_C10D_NCCL
#include <c10/cuda/CUDAFunctions.h>

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include "common/error.h"

namespace genre {

namespace {

int env_int(const GetEnv& getenv, const char* name, int fallback) {
  const char* v = getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  const long n = std::strtol(v, &end, 10);
  if (*end != '\0' || n < 0 || n > 1000000)
    throw Error(
        ErrorKind::kInvalidArgument, "",
        std::string("environment variable ") + name + "=" + v + " is not a non-negative integer");
  return static_cast<int>(n);
}

bool has(const GetEnv& getenv, const char* name) {
  const char* v = getenv(name);
  return v && *v;
}

// The text of an exception from c10d without LibTorch's C++ backtrace.
std::string short_reason(const std::exception& e) {
  if (const auto* c10 = dynamic_cast<const c10::Error*>(&e)) return c10->what_without_backtrace();
  return e.what();
}

}  // namespace

DistributedEnv distributed_env_from(const GetEnv& getenv) {
  DistributedEnv env;
  if (has(getenv, "RANK") && has(getenv, "WORLD_SIZE")) {
    // torchrun, Kubeflow's PyTorchJob, scripts/launch-local
    env.launcher = "torchrun";
    env.rank = env_int(getenv, "RANK", 0);
    env.world_size = env_int(getenv, "WORLD_SIZE", 1);
    env.local_rank = env_int(getenv, "LOCAL_RANK", 0);
  } else if (has(getenv, "SLURM_PROCID") && has(getenv, "SLURM_STEP_NUM_TASKS")) {
    // srun. The step's task count, not the allocation's: a batch script that runs genre without
    // srun is one process even in an allocation of many tasks.
    env.launcher = "slurm";
    env.rank = env_int(getenv, "SLURM_PROCID", 0);
    env.world_size = env_int(getenv, "SLURM_STEP_NUM_TASKS", 1);
    env.local_rank = env_int(getenv, "SLURM_LOCALID", 0);
  } else if (has(getenv, "JOB_COMPLETION_INDEX") && has(getenv, "WORLD_SIZE")) {
    env.launcher = "kubernetes";  // an indexed Job: the pod's index is its rank
    env.rank = env_int(getenv, "JOB_COMPLETION_INDEX", 0);
    env.world_size = env_int(getenv, "WORLD_SIZE", 1);
  } else {
    return env;
  }
  if (env.world_size < 1 || env.rank >= env.world_size)
    throw Error(ErrorKind::kInvalidArgument, "",
                "rank " + std::to_string(env.rank) + " is outside a job of " +
                    std::to_string(env.world_size) + " processes (" + env.launcher +
                    " environment)");
  if (!env.enabled()) return env;
  if (!has(getenv, "MASTER_ADDR"))
    throw Error(ErrorKind::kInvalidArgument, "",
                "a job of " + std::to_string(env.world_size) +
                    " processes needs MASTER_ADDR (the host of rank 0) and MASTER_PORT");
  env.master_addr = getenv("MASTER_ADDR");
  env.master_port = env_int(getenv, "MASTER_PORT", 29500);
  if (env.master_port < 1 || env.master_port > 65535)
    throw Error(ErrorKind::kInvalidArgument, "", "MASTER_PORT must be a TCP port");
  return env;
}

DistributedEnv distributed_env() { return distributed_env_from(&std::getenv); }

struct DistributedJob::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
#ifdef USE_C10D_NCCL
  c10::intrusive_ptr<c10d::ProcessGroupNCCL> nccl;  // CUDA tensors, when a GPU is present
#endif
  int rank = 0;

  void wait(const c10::intrusive_ptr<c10d::Work>& work, const char* what) {
    try {
      work->wait();
    } catch (const std::exception& e) {
      throw Error(ErrorKind::kDistributed, "",
                  "rank " + std::to_string(rank) + ": " + what +
                      " failed; another process of the job died, stalled past the timeout or "
                      "cannot be reached: " +
                      short_reason(e));
    }
  }
};

DistributedJob::DistributedJob() = default;

DistributedJob::DistributedJob(const DistributedEnv& env, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()), rank_(env.rank), world_size_(env.world_size) {
  impl_->rank = env.rank;
  const std::string where = env.master_addr + ":" + std::to_string(env.master_port);
  try {
    c10d::TCPStoreOptions options;
    options.port = static_cast<std::uint16_t>(env.master_port);
    options.isServer = env.rank == 0;
    options.numWorkers = env.world_size;
    options.waitWorkers = true;
    options.timeout = timeout;
    impl_->store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, options);
    auto group_options = c10d::ProcessGroupGloo::Options::create(timeout);
    const char* interface = std::getenv("GLOO_SOCKET_IFNAME");
    group_options->devices.push_back(
        interface && *interface ? c10d::ProcessGroupGloo::createDeviceForInterface(interface)
                                : c10d::ProcessGroupGloo::createDefaultDevice());
    group_options->threads = 2;
    impl_->group = c10::make_intrusive<c10d::ProcessGroupGloo>(impl_->store, env.rank,
                                                               env.world_size, group_options);
    connect_nccl(env, timeout);
  } catch (const std::exception& e) {
    throw Error(ErrorKind::kDistributed, "",
                "rank " + std::to_string(env.rank) + " of " + std::to_string(env.world_size) +
                    ": cannot meet the other processes at " + where +
                    " (MASTER_ADDR:MASTER_PORT) "
                    "within " +
                    std::to_string(timeout.count() / 1000) + " s: " + short_reason(e));
  }
}

DistributedJob::~DistributedJob() = default;

// With CUDA and NCCL each process takes the GPU of its LOCAL_RANK and reduces CUDA tensors
// with NCCL (no copies through the host); the Gloo group stays for CPU tensors. A separate key
// prefix keeps the two groups' rendezvous apart in the one store.
void DistributedJob::connect_nccl(const DistributedEnv& env, std::chrono::milliseconds timeout) {
#ifdef USE_C10D_NCCL
  if (!torch::cuda::is_available() || std::getenv("GENRE_NO_NCCL")) return;
  c10::cuda::set_device(static_cast<c10::DeviceIndex>(env.local_rank % c10::cuda::device_count()));
  // Blocking waits make a collective honour the timeout, so a dead process fails the others
  // with a message instead of a hang (the variable's name before and after PyTorch 2.2).
  setenv("NCCL_BLOCKING_WAIT", "1", 0);
  setenv("TORCH_NCCL_BLOCKING_WAIT", "1", 0);
  auto options = c10d::ProcessGroupNCCL::Options::create();
  options->timeout = timeout;
  impl_->nccl = c10::make_intrusive<c10d::ProcessGroupNCCL>(
      c10::make_intrusive<c10d::PrefixStore>("nccl/", impl_->store), env.rank, env.world_size,
      options);
#else
  (void)env;
  (void)timeout;
#endif
}

bool DistributedJob::uses_nccl() const {
#ifdef USE_C10D_NCCL
  return impl_ && impl_->nccl;
#else
  return false;
#endif
}

namespace {

// Gloo works on contiguous CPU tensors: others go through a CPU copy and back.
template <typename Collective>
void on_cpu(torch::Tensor& t, const Collective& collective) {
  const bool direct = t.device().is_cpu() && t.is_contiguous();
  std::vector<torch::Tensor> tensors{direct ? t : t.to(torch::kCPU).contiguous()};
  collective(tensors);
  if (!direct) t.copy_(tensors[0]);
}

}  // namespace

void DistributedJob::all_reduce_sum(torch::Tensor& t) {
  if (!enabled()) return;
#ifdef USE_C10D_NCCL
  if (impl_->nccl && t.is_cuda() && t.is_contiguous()) {
    std::vector<torch::Tensor> v{t};
    impl_->wait(impl_->nccl->allreduce(v), "a sum over the job (NCCL)");
    return;
  }
#endif
  on_cpu(t, [&](std::vector<torch::Tensor>& v) {
    impl_->wait(impl_->group->allreduce(v), "a sum over the job");
  });
}

void DistributedJob::broadcast(torch::Tensor& t) {
  if (!enabled()) return;
#ifdef USE_C10D_NCCL
  if (impl_->nccl && t.is_cuda() && t.is_contiguous()) {
    std::vector<torch::Tensor> v{t};
    impl_->wait(impl_->nccl->broadcast(v), "a broadcast from rank 0 (NCCL)");
    return;
  }
#endif
  on_cpu(t, [&](std::vector<torch::Tensor>& v) {
    impl_->wait(impl_->group->broadcast(v), "a broadcast from rank 0");
  });
}

void DistributedJob::all_reduce_gradients(const std::vector<torch::Tensor>& params) {
  if (!enabled()) return;
  std::vector<torch::Tensor> trainable, flat_parts;
  for (const auto& p : params) {
    if (!p.requires_grad()) continue;
    trainable.push_back(p);
    // A parameter this process did not reach this step contributes zeros.
    flat_parts.push_back(p.grad().defined() ? p.grad().reshape(-1)
                                            : torch::zeros({p.numel()}, p.options()));
  }
  if (trainable.empty()) return;
  torch::Tensor flat = torch::cat(flat_parts);
  all_reduce_sum(flat);
  int64_t offset = 0;
  torch::NoGradGuard no_grad;
  for (auto& p : trainable) {
    const int64_t n = p.numel();
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    p.mutable_grad().copy_(flat.slice(0, offset, offset + n).view_as(p));
    offset += n;
  }
}

void DistributedJob::broadcast_module(torch::nn::Module& module) {
  if (!enabled()) return;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> tensors;
  for (auto& p : module.parameters()) tensors.push_back(p);
  for (auto& b : module.buffers()) tensors.push_back(b);
  for (auto& t : tensors) {
    torch::Tensor copy = t.detach();
    broadcast(copy);
  }
}

void DistributedJob::all_gather_owned(std::vector<torch::Tensor>& items) {
  if (!enabled()) return;
  const int64_t n = static_cast<int64_t>(items.size());
  // First the shapes (dims, then up to three sizes), then the values, each with one sum.
  torch::Tensor shapes = torch::zeros({n, 4}, torch::kLong);
  for (int64_t i = 0; i < n; ++i) {
    if (!owns(i)) continue;
    TORCH_CHECK(items[i].defined() && items[i].dim() <= 3, "all_gather_owned: bad item ", i);
    shapes[i][0] = items[i].dim();
    for (int64_t d = 0; d < items[i].dim(); ++d) shapes[i][d + 1] = items[i].size(d);
  }
  all_reduce_sum(shapes);
  std::vector<std::vector<int64_t>> sizes(n);
  std::vector<int64_t> offsets(n + 1, 0);
  for (int64_t i = 0; i < n; ++i) {
    int64_t numel = 1;
    for (int64_t d = 0; d < shapes[i][0].item<int64_t>(); ++d) {
      sizes[i].push_back(shapes[i][d + 1].item<int64_t>());
      numel *= sizes[i].back();
    }
    offsets[i + 1] = offsets[i] + numel;
  }
  torch::Tensor flat = torch::zeros({offsets[n]});
  for (int64_t i = 0; i < n; ++i)
    if (owns(i)) flat.slice(0, offsets[i], offsets[i + 1]).copy_(items[i].reshape(-1));
  all_reduce_sum(flat);
  for (int64_t i = 0; i < n; ++i)
    items[i] = flat.slice(0, offsets[i], offsets[i + 1]).view(sizes[i]).clone();
}

std::string DistributedJob::broadcast_bytes(const std::string& bytes) {
  if (!enabled()) return bytes;
  torch::Tensor size = torch::tensor({static_cast<int64_t>(bytes.size())}, torch::kLong);
  broadcast(size);
  torch::Tensor data = torch::empty({size.item<int64_t>()}, torch::kUInt8);
  if (is_root()) std::memcpy(data.data_ptr(), bytes.data(), bytes.size());
  broadcast(data);
  return std::string(static_cast<const char*>(data.data_ptr()), data.numel());
}

void DistributedJob::barrier() {
  if (!enabled()) return;
  impl_->wait(impl_->group->barrier(), "a barrier");
}

namespace {
std::unique_ptr<DistributedJob> g_job;
}

DistributedJob& distributed_job() {
  static DistributedJob single;
  return g_job ? *g_job : single;
}

void join_distributed_job(const DistributedEnv& env, std::chrono::milliseconds timeout,
                          bool quiet) {
  if (!env.enabled() || g_job) return;
  if (!quiet)
    std::cerr << "distributed: rank " << env.rank << " of " << env.world_size << " ("
              << env.launcher << "), meeting at " << env.master_addr << ":" << env.master_port
              << "\n";
  g_job = std::make_unique<DistributedJob>(env, timeout);
  if (!quiet && g_job->uses_nccl())
    std::cerr << "distributed: CUDA tensors reduced with NCCL (GPU " << env.local_rank << ")\n";
}

}  // namespace genre
