#include "common/parallel.h"

#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace genre {

int hardware_threads() { return std::max(1u, std::thread::hardware_concurrency()); }

void tune_allocator_for_tensors() {
  mallopt(M_MMAP_THRESHOLD, 1 << 30);  // large blocks come from the heap and are reused
  mallopt(M_TRIM_THRESHOLD, 1 << 30);  // and the heap is not trimmed after every free
}

void parallel_for(std::size_t count, int threads, const std::function<void(std::size_t)>& job) {
  if (threads <= 0) threads = hardware_threads();
  const std::size_t workers = std::min<std::size_t>(static_cast<std::size_t>(threads), count);
  if (workers <= 1) {
    for (std::size_t i = 0; i < count; ++i) job(i);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> pool;
  pool.reserve(workers);
  for (std::size_t w = 0; w < workers; ++w) {
    pool.emplace_back([&] {
      for (std::size_t i = next.fetch_add(1); i < count; i = next.fetch_add(1)) job(i);
    });
  }
  for (auto& t : pool) t.join();
}

}  // namespace genre
