// genre/serve: the bounded pool that runs decoding and inference, so HTTP threads never do.
//
// At most threads + queue requests are admitted at once: `threads` running and `queue` waiting.
// A request is admitted before its upload is read (so rejected uploads are never buffered) and
// keeps its place until its job has run.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace genre::serve {

class WorkerPool {
 public:
  WorkerPool(int threads, int queue);
  ~WorkerPool();  // runs the jobs already queued, then joins
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // One admitted request's place; gives it back when destroyed.
  class Admission {
   public:
    Admission() = default;
    Admission(Admission&& o) noexcept : pool_(o.pool_) { o.pool_ = nullptr; }
    Admission& operator=(Admission&&) = delete;
    ~Admission();
    explicit operator bool() const { return pool_ != nullptr; }

   private:
    friend class WorkerPool;
    explicit Admission(WorkerPool* pool) : pool_(pool) {}
    WorkerPool* pool_ = nullptr;
  };

  // A place for one more request, or an empty Admission when the pool and its queue are full.
  Admission try_admit();

  // Runs `job` on a worker and waits for it; returns the seconds it waited in the queue.
  // Exceptions from the job are rethrown here.
  double run(const Admission& admission, std::function<void()> job);

  int threads() const { return static_cast<int>(workers_.size()); }
  int queue_capacity() const { return queue_capacity_; }
  int queued() const;  // jobs waiting for a worker
  int busy() const;    // jobs running
  // A hint for Retry-After: the queue ahead divided among the workers, at the recent mean job
  // time; at least 1 s.
  int retry_after_seconds() const;

 private:
  struct Task;
  void work();

  const int queue_capacity_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Task>> tasks_;
  int admitted_ = 0, busy_ = 0;
  double mean_job_seconds_ = 1.0;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace genre::serve
