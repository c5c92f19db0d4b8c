// genre/model: batch norm that a data-parallel job can synchronise across processes.
//
// In training mode a batch norm normalises with its batch's statistics. When several processes
// each see a slice of one global batch, per-slice statistics would make the result depend on the
// number of processes; with a reducer installed, the mean and variance (and, backwards, their
// gradients) are summed over all processes, so N processes train exactly what one process with
// the whole batch would (PyTorch's SyncBatchNorm). Without a reducer this is the plain layer.
#pragma once

#include <torch/torch.h>

namespace genre {

// Sums a tensor over every process of a job, in place. Implemented by train/distributed.
class BatchNormReducer {
 public:
  virtual ~BatchNormReducer() = default;
  virtual void all_reduce_sum(torch::Tensor& t) = 0;
};

// Installs `reducer` for every batch norm run on this thread while alive.
class BatchNormSyncGuard {
 public:
  explicit BatchNormSyncGuard(BatchNormReducer* reducer);
  ~BatchNormSyncGuard();
  BatchNormSyncGuard(const BatchNormSyncGuard&) = delete;
  BatchNormSyncGuard& operator=(const BatchNormSyncGuard&) = delete;

 private:
  BatchNormReducer* previous_;
};

// True while a reducer is installed on this thread.
bool batch_norm_sync_installed();

// bn(x) for x [N, C, ...]; synchronised across processes in training mode when a reducer is
// installed.
torch::Tensor apply_batch_norm(torch::nn::BatchNorm2d& bn, const torch::Tensor& x);

}  // namespace genre
