// The command-line side of data-parallel jobs (genre train and genre cv).
#include <cmath>
#include <cstdlib>
#include <iostream>

#include "cli/options.h"
#include "common/parallel.h"
#include "train/distributed.h"

namespace genre::cli {

void add_distributed_options(CLI::App* app, DistributedOptions& o) {
  app->add_option("--dist-timeout", o.timeout_seconds,
                  "Data-parallel jobs: seconds to wait for the other processes, at the start and "
                  "in every reduction, before failing")
      ->default_val(o.timeout_seconds)
      ->check(CLI::PositiveNumber)
      ->group("Distributed (set by torchrun-style variables, srun or a Kubernetes Job)");
  app->add_option("--lr-scale", o.lr_scale,
                  "Data-parallel jobs: scale --lr for the global batch (--batch-size x "
                  "processes): none, linear or sqrt")
      ->default_val(o.lr_scale)
      ->check(CLI::IsMember({"none", "linear", "sqrt"}))
      ->group("Distributed (set by torchrun-style variables, srun or a Kubernetes Job)");
}

nlohmann::json DistributedOptions::start(TrainParams& p) const {
  const DistributedEnv env = distributed_env();
  if (!env.enabled()) return nullptr;
  join_distributed_job(env, std::chrono::milliseconds(static_cast<int64_t>(timeout_seconds * 1000)),
                       p.quiet);
  const double world = env.world_size;
  const double lr_factor = lr_scale == "linear" ? world : lr_scale == "sqrt" ? std::sqrt(world) : 1;
  p.lr *= lr_factor;
  // Processes sharing a machine share its cores (torchrun sets LOCAL_WORLD_SIZE).
  const char* local = std::getenv("LOCAL_WORLD_SIZE");
  const int local_world = local && std::atoi(local) > 0 ? std::atoi(local) : 1;
  if (p.threads <= 0 && local_world > 1) p.threads = std::max(1, hardware_threads() / local_world);
  if (env.rank > 0)
    p.quiet = true;
  else
    std::cerr << "distributed: " << env.world_size << " processes, global batch "
              << p.batch_size * env.world_size << " (" << p.batch_size << " per process), lr "
              << p.lr << " (--lr-scale " << lr_scale << ")\n";
  return {{"world_size", env.world_size},
          {"launcher", env.launcher},
          {"batch_size_per_process", p.batch_size},
          {"global_batch_size", p.batch_size * env.world_size},
          {"lr_scale", lr_scale},
          {"lr", p.lr}};
}

}  // namespace genre::cli
