// The data-parallel building blocks: the job layout read from each launcher's environment, and
// two ranks as two threads of this process over real c10d/Gloo on 127.0.0.1: synchronised batch
// norm against one batch norm over the whole batch, and the collectives the trainer uses.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <thread>

#include "common/error.h"
#include "model/batch_norm.h"
#include "train/distributed.h"

namespace genre {
namespace {

DistributedEnv env_of(const std::map<std::string, std::string>& vars) {
  return distributed_env_from([&](const char* name) -> const char* {
    const auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
}

TEST(DistributedEnv, SingleProcessWithoutLauncherVariables) {
  const DistributedEnv env = env_of({{"HOME", "/root"}});
  EXPECT_FALSE(env.enabled());
  EXPECT_EQ(env.world_size, 1);
  EXPECT_EQ(env.launcher, "");
}

TEST(DistributedEnv, TorchrunVariables) {
  const DistributedEnv env = env_of({{"RANK", "3"},
                                     {"WORLD_SIZE", "4"},
                                     {"LOCAL_RANK", "1"},
                                     {"MASTER_ADDR", "node7"},
                                     {"MASTER_PORT", "29555"}});
  EXPECT_EQ(env.launcher, "torchrun");
  EXPECT_EQ(env.rank, 3);
  EXPECT_EQ(env.world_size, 4);
  EXPECT_EQ(env.local_rank, 1);
  EXPECT_EQ(env.master_addr, "node7");
  EXPECT_EQ(env.master_port, 29555);
}

TEST(DistributedEnv, SlurmStepVariables) {
  const DistributedEnv env = env_of({{"SLURM_PROCID", "1"},
                                     {"SLURM_STEP_NUM_TASKS", "2"},
                                     {"SLURM_LOCALID", "0"},
                                     {"SLURM_NTASKS", "2"},
                                     {"MASTER_ADDR", "n01"}});
  EXPECT_EQ(env.launcher, "slurm");
  EXPECT_EQ(env.rank, 1);
  EXPECT_EQ(env.world_size, 2);
  EXPECT_EQ(env.master_port, 29500);
  // A batch script running genre without srun is one process, whatever the allocation's size.
  EXPECT_FALSE(env_of({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "8"}}).enabled());
}

TEST(DistributedEnv, KubernetesIndexedJob) {
  const DistributedEnv env = env_of({{"JOB_COMPLETION_INDEX", "2"},
                                     {"WORLD_SIZE", "3"},
                                     {"MASTER_ADDR", "genre-train-0.genre-train"}});
  EXPECT_EQ(env.launcher, "kubernetes");
  EXPECT_EQ(env.rank, 2);
  EXPECT_EQ(env.world_size, 3);
}

TEST(DistributedEnv, BadValuesAreClearErrors) {
  EXPECT_THROW(env_of({{"RANK", "2"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}}), Error);
  EXPECT_THROW(env_of({{"RANK", "x"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}}), Error);
  EXPECT_THROW(env_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}}), Error);  // no MASTER_ADDR
  EXPECT_THROW(
      env_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "0"}}),
      Error);
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// Runs `body(job)` as rank 0 and rank 1 of a two-process job, one thread each.
void run_two_ranks(const std::function<void(DistributedJob&)>& body) {
  const int port = free_port();
  std::vector<std::thread> threads;
  std::vector<std::string> failures(2);
  for (int rank = 0; rank < 2; ++rank)
    threads.emplace_back([&, rank] {
      try {
        DistributedEnv env;
        env.rank = rank, env.world_size = 2, env.master_port = port;
        DistributedJob job(env, std::chrono::seconds(30));
        body(job);
      } catch (const std::exception& e) {
        failures[rank] = e.what();
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures[0], "");
  EXPECT_EQ(failures[1], "");
}

TEST(DistributedJob, SynchronisedBatchNormEqualsOneBatchNormOverTheWholeBatch) {
  torch::manual_seed(5);
  const torch::Tensor x = torch::randn({6, 3, 4, 5}) * 2 + 1;
  const torch::Tensor upstream = torch::randn({6, 3, 4, 5});  // d(loss)/d(output)

  // Reference: one batch norm over all six examples.
  torch::nn::BatchNorm2d reference(torch::nn::BatchNorm2dOptions(3));
  const torch::Tensor x_ref = x.clone().requires_grad_(true);
  const torch::Tensor y_ref = reference(x_ref);
  (y_ref * upstream).sum().backward();

  // Two ranks with four and two of the examples (unequal slices on purpose).
  std::vector<torch::Tensor> y(2), grad_x(2), grad_w(2), grad_b(2), running_var(2);
  run_two_ranks([&](DistributedJob& job) {
    const int r = job.rank();
    const int64_t from = r == 0 ? 0 : 4, to = r == 0 ? 4 : 6;
    torch::nn::BatchNorm2d bn(torch::nn::BatchNorm2dOptions(3));
    const BatchNormSyncGuard guard(&job);
    const torch::Tensor xs = x.slice(0, from, to).clone().requires_grad_(true);
    const torch::Tensor ys = apply_batch_norm(bn, xs);
    (ys * upstream.slice(0, from, to)).sum().backward();
    y[r] = ys.detach(), grad_x[r] = xs.grad();
    grad_w[r] = bn->weight.grad().clone(), grad_b[r] = bn->bias.grad().clone();
    running_var[r] = bn->running_var.clone();
  });
  ASSERT_TRUE(y[0].defined() && y[1].defined());
  EXPECT_TRUE(torch::allclose(torch::cat({y[0], y[1]}), y_ref, 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(torch::cat({grad_x[0], grad_x[1]}), x_ref.grad(), 1e-5, 1e-5));
  // Affine gradients stay per rank; the job sums them with the other gradients.
  EXPECT_TRUE(torch::allclose(grad_w[0] + grad_w[1], reference->weight.grad(), 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(grad_b[0] + grad_b[1], reference->bias.grad(), 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(running_var[0], reference->running_var, 1e-5, 1e-5));
  EXPECT_TRUE(torch::equal(running_var[0], running_var[1]));
}

TEST(DistributedJob, GradientsGatherAndBroadcast) {
  std::vector<torch::Tensor> grads(2), gathered_last(2);
  std::vector<std::string> bytes(2);
  run_two_ranks([&](DistributedJob& job) {
    const int r = job.rank();
    // Gradients: one flat sum over ranks, written back into each parameter's grad.
    torch::Tensor a = torch::zeros({2, 2}, torch::requires_grad());
    torch::Tensor frozen = torch::zeros({3});
    a.mutable_grad() = torch::full({2, 2}, r + 1.0);
    job.all_reduce_gradients({a, frozen});
    grads[r] = a.grad().clone();
    // Items owned by each rank (i % 2), of different shapes, end up everywhere.
    std::vector<torch::Tensor> items(3);
    for (std::size_t i = 0; i < items.size(); ++i)
      if (job.owns(i)) items[i] = torch::full({static_cast<int64_t>(i) + 1, 2}, float(i));
    job.all_gather_owned(items);
    gathered_last[r] = items[2];
    EXPECT_TRUE(torch::equal(items[1], torch::full({2, 2}, 1.0f)));
    bytes[r] = job.broadcast_bytes(r == 0 ? std::string("checkpoint\0bytes", 16) : "");
  });
  EXPECT_TRUE(torch::equal(grads[0], torch::full({2, 2}, 3.0f)));
  EXPECT_TRUE(torch::equal(grads[1], grads[0]));
  EXPECT_TRUE(torch::equal(gathered_last[1], torch::full({3, 2}, 2.0f)));
  EXPECT_EQ(bytes[1], std::string("checkpoint\0bytes", 16));
}

TEST(DistributedJob, NobodyAtTheRendezvousIsAClearErrorWithinTheTimeout) {
  DistributedEnv env;
  env.rank = 1, env.world_size = 2, env.master_port = free_port();
  const auto start = std::chrono::steady_clock::now();
  try {
    DistributedJob job(env, std::chrono::seconds(2));
    FAIL() << "joined a job nobody else is in";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kDistributed);
    EXPECT_NE(std::string(e.what()).find("cannot meet the other processes"), std::string::npos)
        << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
}

}  // namespace
}  // namespace genre
