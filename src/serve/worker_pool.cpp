#include "serve/worker_pool.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <future>

namespace genre::serve {

using Clock = std::chrono::steady_clock;

struct WorkerPool::Task {
  std::function<void()> job;
  Clock::time_point queued_at = Clock::now();
  double waited = 0;
  std::promise<void> done;
};

WorkerPool::WorkerPool(int threads, int queue) : queue_capacity_(std::max(0, queue)) {
  for (int i = 0; i < std::max(1, threads); ++i) workers_.emplace_back([this] { work(); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& w : workers_) w.join();
}

WorkerPool::Admission::~Admission() {
  if (!pool_) return;
  std::lock_guard<std::mutex> lock(pool_->mutex_);
  --pool_->admitted_;
}

WorkerPool::Admission WorkerPool::try_admit() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (admitted_ >= threads() + queue_capacity_) return Admission();
  ++admitted_;
  return Admission(this);
}

double WorkerPool::run(const Admission& admission, std::function<void()> job) {
  if (admission.pool_ != this) throw std::logic_error("WorkerPool::run without an admission");
  auto task = std::make_shared<Task>();
  task->job = std::move(job);
  std::future<void> done = task->done.get_future();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    tasks_.push_back(task);
  }
  cv_.notify_one();
  done.get();  // rethrows the job's exception
  return task->waited;
}

void WorkerPool::work() {
  for (;;) {
    std::shared_ptr<Task> task;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [&] { return stop_ || !tasks_.empty(); });
      if (tasks_.empty()) return;  // stopping, nothing left to run
      task = std::move(tasks_.front());
      tasks_.pop_front();
      ++busy_;
    }
    const Clock::time_point start = Clock::now();
    task->waited = std::chrono::duration<double>(start - task->queued_at).count();
    std::exception_ptr failure;
    try {
      task->job();
    } catch (...) {
      failure = std::current_exception();
    }
    const double took = std::chrono::duration<double>(Clock::now() - start).count();
    {
      // Bookkeeping before the caller wakes, so the gauges it may read next are settled.
      std::lock_guard<std::mutex> lock(mutex_);
      --busy_;
      mean_job_seconds_ = 0.8 * mean_job_seconds_ + 0.2 * took;
    }
    if (failure)
      task->done.set_exception(failure);
    else
      task->done.set_value();
  }
}

int WorkerPool::queued() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int>(tasks_.size());
}

int WorkerPool::busy() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return busy_;
}

int WorkerPool::retry_after_seconds() const {
  std::lock_guard<std::mutex> lock(mutex_);
  const double ahead = static_cast<double>(tasks_.size() + 1) / threads();
  return std::max(1, static_cast<int>(std::ceil(ahead * mean_job_seconds_)));
}

}  // namespace genre::serve
