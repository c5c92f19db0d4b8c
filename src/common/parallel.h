// genre/common: run an indexed job over worker threads.
#pragma once

#include <cstddef>
#include <functional>

namespace genre {

// Number of hardware threads, at least 1.
int hardware_threads();

// Keeps freed memory in the process instead of returning every large tensor buffer to the OS:
// without it each training step maps and unmaps hundreds of MB, and page faults dominate.
void tune_allocator_for_tensors();

// Calls job(i) for i in [0, count) on `threads` worker threads (<= 0 means all cores).
// Jobs must not throw; each job handles its own errors. Blocks until all are done.
void parallel_for(std::size_t count, int threads, const std::function<void(std::size_t)>& job);

}  // namespace genre
