// genre/train: data-parallel jobs across processes and machines on LibTorch's c10d, the engine
// under PyTorch's DistributedDataParallel. Processes meet through a c10d::TCPStore at
// MASTER_ADDR:MASTER_PORT and reduce through c10d::ProcessGroupGloo; they are launched the way
// PyTorch jobs are (torchrun-style variables, Slurm's srun, a Kubernetes indexed Job or Kubeflow
// PyTorchJob; see docs/scaling.md).
//
// One process per job is the default: every collective is then a no-op, so the training code
// reads the same with one process or many.
#pragma once

#include <torch/torch.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "model/batch_norm.h"

namespace genre {

struct DistributedEnv {
  int rank = 0, world_size = 1, local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  std::string launcher;  // "torchrun", "slurm", "kubernetes", or empty for a single process
  bool enabled() const { return world_size > 1; }
};

// The job's layout from the environment: RANK/WORLD_SIZE/LOCAL_RANK (torchrun, Kubeflow
// PyTorchJob), else SLURM_PROCID/SLURM_NTASKS/SLURM_LOCALID (srun), else JOB_COMPLETION_INDEX
// with WORLD_SIZE (a Kubernetes indexed Job); MASTER_ADDR and MASTER_PORT in every case.
// Throws Error(kInvalidArgument) on missing or inconsistent values.
using GetEnv = std::function<const char*(const char*)>;
DistributedEnv distributed_env_from(const GetEnv& getenv);
DistributedEnv distributed_env();  // from this process's environment

class DistributedJob : public BatchNormReducer {
 public:
  DistributedJob();  // a job of one process
  // Rendezvous with the other processes; gives up after `timeout` (also the bound on every
  // later collective, so a dead or stuck process makes the others fail instead of hang).
  DistributedJob(const DistributedEnv& env, std::chrono::milliseconds timeout);
  ~DistributedJob() override;

  int rank() const { return rank_; }
  int world_size() const { return world_size_; }
  bool enabled() const { return world_size_ > 1; }
  bool is_root() const { return rank_ == 0; }
  // CUDA tensors are reduced with NCCL (a build with GENRE_NCCL, a GPU present and
  // GENRE_NO_NCCL unset); otherwise everything goes through Gloo on the CPU.
  bool uses_nccl() const;
  // Example i of a sharded set belongs to rank i % world_size.
  bool owns(std::size_t i) const { return static_cast<int>(i % world_size_) == rank_; }

  void all_reduce_sum(torch::Tensor& t) override;  // in place; any device
  void broadcast(torch::Tensor& t);                // rank 0's values everywhere, in place
  // Sums the gradients of `params` over the job in one flat buffer (one reduction per step).
  void all_reduce_gradients(const std::vector<torch::Tensor>& params);
  // Rank 0's parameters and buffers everywhere (as DistributedDataParallel does at start).
  void broadcast_module(torch::nn::Module& module);
  // items[i] is defined on the rank that owns(i) (float, up to 3 dimensions); afterwards every
  // rank holds every item.
  void all_gather_owned(std::vector<torch::Tensor>& items);
  // Rank 0's bytes everywhere (a checkpoint to resume from, without a shared filesystem).
  std::string broadcast_bytes(const std::string& bytes);
  void barrier();

 private:
  void connect_nccl(const DistributedEnv& env, std::chrono::milliseconds timeout);
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int rank_ = 0, world_size_ = 1;
};

// The process's job: a job of one process until join_distributed_job() is called.
DistributedJob& distributed_job();
// Joins the job the environment describes (no-op for a single process); logs the layout.
void join_distributed_job(const DistributedEnv& env, std::chrono::milliseconds timeout, bool quiet);

}  // namespace genre
