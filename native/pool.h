// Persistent worker pool shared by every native kernel.
#pragma once
#include <cstdint>
#include <functional>

namespace electra {

// Threads that run kernels, the calling thread included (>= 1).
int pool_threads();
// Resizes the pool; n <= 0 means one thread per core (or ELECTRA_THREADS when set).
void set_pool_threads(int n);
// Runs fn(task) for every task in [0, ntasks) on the pool's threads, the caller
// included, and returns when all are done. Tasks are claimed dynamically.
// Nested calls from inside a task run serially on the calling thread.
void parallel_for(int64_t ntasks, const std::function<void(int64_t)>& fn);

// Runs `loop` (which returns the flops it did) on every pool thread at once
// for about `seconds`; returns the summed rate in flop/s (peak figures).
double measure_parallel_flops(double (*loop)(int64_t iterations), double seconds);

}  // namespace electra
